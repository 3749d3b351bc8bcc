"""Helpers for gateway tests: a gateway on a sandbox whose waits are recorded, not slept."""

from __future__ import annotations

import random

import pytest

from triage_tui.config import NylasConfig
from triage_tui.nylas.gateway import Gateway


class RecordedSleep:
    """A fake clock whose sleep advances time and records every wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def recorded_sleep() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
def gateway_for(recorded_sleep):
    """gateway_for(running_sandbox_or_uri, **nylas_config) -> Gateway with recorded waits."""

    def make(target, *, api_key: str | None = None, **config) -> Gateway:
        api_uri = target if isinstance(target, str) else target.api_uri
        key = api_key if api_key is not None else getattr(target, "api_key", "key")
        settings = {"timeout_s": 5.0, "max_requests_per_s": 1000.0, "max_retries": 4, **config}
        return Gateway(NylasConfig(api_uri=api_uri, **settings), key, sleep=recorded_sleep.sleep,
                       clock=recorded_sleep.clock, rng=random.Random(5))

    return make


def deliver_mails(sandbox, count: int, *, start: int = 1_700_000_000) -> list[str]:
    """Deliver `count` structured inbound mails one second apart; returns their ids."""
    ids = []
    for index in range(count):
        data = sandbox.deliver(**{
            "from": {"name": f"Customer {index}", "email": f"c{index}@customer.example"},
            "to": [sandbox.email], "subject": f"Question {index}",
            "body": f"<p>Hello, question number {index}</p>", "received_at": start + index,
        })
        ids.append(data["id"])
    return ids
