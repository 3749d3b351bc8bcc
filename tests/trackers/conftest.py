"""Fixtures for tracker tests: fake trackers on loopback (one per kind for the session, cleared per test)."""

from __future__ import annotations

import pytest

from triage_tui.sandbox.trackers.runner import start_tracker_fake
from tests.trackers.helpers import ENV


@pytest.fixture(scope="session")
def shared_fakes():
    """One fake per kind with default options, started on first use."""
    started: dict = {}
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture
def make_fake(monkeypatch, shared_fakes):
    """make_fake(kind, **options): a clean running fake whose credential is exported as the tracker's variable.

    Without options the session's fake of that kind is cleared and reused; options start a new one.
    """
    started = []

    def make(kind: str, **options):
        if options:
            fake = start_tracker_fake(kind, **options)
            started.append(fake)
        else:
            if kind not in shared_fakes:
                shared_fakes[kind] = start_tracker_fake(kind)
            fake = shared_fakes[kind]
            fake.clear()
        monkeypatch.setenv(ENV[kind], fake.token)
        return fake

    yield make
    for fake in started:
        fake.stop()
