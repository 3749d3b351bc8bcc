"""A reply that certainly went out is recorded as sent, through transient errors and a lost lease."""

from __future__ import annotations

import sqlite3
import time

from peewee import OperationalError

from tests.outbound.scenarios import approve_many, deliveries
from triage_tui.outbound import claims
from triage_tui.outbound.dispatcher import dispatch_once
from triage_tui.store.models import AuditRow
from triage_tui.store.outbox import get_entry


class LeaseRunsOutDuringTheSend:
    """Sends for real, then lets the entry's lease run out (another dispatcher's reaper takes it back)."""

    def __init__(self, gateway) -> None:
        self.gateway, self.config, self.reaped = gateway, gateway.config, 0

    def send_reply(self, reply, **kwargs):
        result = self.gateway.send_reply(reply, **kwargs)
        returned, _ = claims.reap(self.outbound_config, time.time() + 10_000, actor="other")
        self.reaped += returned
        return result


def test_a_sent_reply_is_recorded_after_transient_errors_even_when_its_lease_was_taken_back(
        outbound, monkeypatch):
    config, gateway, sandbox = outbound
    key = approve_many(config, sandbox, 1)[0]
    failing = {"left": 3}
    real = claims._record_done

    def flaky(*args, **kwargs):
        if failing["left"]:
            failing["left"] -= 1
            raise OperationalError(sqlite3.OperationalError("database is locked"), "database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(claims, "_record_done", flaky)
    sender = LeaseRunsOutDuringTheSend(gateway)
    sender.outbound_config = config.model_copy(update={"outbound": config.outbound.model_copy(
        update={"reconcile_after_s": 10**9})})
    report = dispatch_once(config, sender, owner="w1")
    assert failing["left"] == 0 and sender.reaped == 1  # it failed three times, after the reaper took it
    assert report.sent == 1 and get_entry(key).state == "sent"
    recorded = AuditRow.get((AuditRow.action == "outbox.sent") & (AuditRow.command_result_id == key))
    assert "after_takeover_by" in recorded.detail
    assert dispatch_once(config, gateway, owner="w2").claimed == 0  # never back in the queue as unsent
    assert sorted(deliveries(sandbox).values()) == [1]
