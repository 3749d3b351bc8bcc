"""The tracker dispatcher end to end: store -> adapter -> fake over HTTP, with faults, and beside other trackers."""

from __future__ import annotations

import socket
import time

import pytest

from triage_tui.domain import Address
from triage_tui.ops.metrics import reset_metrics
from triage_tui.outbound.tracker_dispatch import TrackerDispatcher, dispatch_tracker_once
from triage_tui.store.control import STOP_SWITCH, set_stop_switch
from triage_tui.store.models import TrackerLinkRow, TrackerWriteRow
from triage_tui.store.tracker_queries import tracker_alert, tracker_problems
from triage_tui.store.tracker_writes import enqueue_comment, enqueue_create, enqueue_status
from triage_tui.trackers.registry import build_tracker
from tests.trackers.helpers import KINDS, facts, make_config, marker_counts, tracker_settings
from tests.trackers.test_adapters import _fault_request


def _queue_ticket(config, ticket_id=None):
    f = facts(ticket_id)
    crids = [enqueue_create(config, f, actor="dana")]
    crids += enqueue_comment(config, ticket_id=f.ticket_id, source_id="m2", author="customer", text="Any news?",
                             sender=Address(email="jane@customer.example"), actor="ingest")
    crids += enqueue_status(config, ticket_id=f.ticket_id, status="solved", source_id="d2", actor="dana")
    return f, crids


def _drain(config, tracker, owner="w1", rounds=6, clock=None):
    for i in range(rounds):
        now = None if clock is None else clock + i * (config.tracking.lease_s + 1)
        dispatch_tracker_once(config, tracker, owner=f"{owner}-{i}", now=now)
        if TrackerWriteRow.select().where(TrackerWriteRow.state != "done").count() == 0:
            return


@pytest.mark.parametrize("kind", KINDS)
def test_every_write_lands_once_even_when_the_create_response_is_lost(kind, db, db_url, make_fake):
    fake = make_fake(kind)
    config = make_config(db_url, trackers={"t": tracker_settings(kind, fake)}, default="t")
    f, crids = _queue_ticket(config)
    method, path = _fault_request(kind)
    fake.set_faults(script=[{"fault": "lost", "method": method, "path": path}])
    tracker = build_tracker(config, "t")
    _drain(config, tracker, clock=time.time())
    rows = {r.command_result_id: r for r in TrackerWriteRow.select()}
    assert [rows[c].state for c in crids] == ["done", "done", "done"]
    assert rows[crids[0]].attempts == 2 and rows[crids[0]].outcome_unknown is False
    counts = marker_counts(fake)
    assert counts[crids[0]] == 1 and counts[crids[1]] == 1
    link = TrackerLinkRow.get(TrackerLinkRow.ticket_id == f.ticket_id)
    assert link.external_key and (link.url or kind == "webhook")
    tracker.close()


def test_a_refused_token_fails_with_one_clear_line_and_nothing_is_retried_blindly(db, db_url, make_fake, monkeypatch):
    fake = make_fake("github")
    config = make_config(db_url, trackers={"gh": tracker_settings("github", fake)}, default="gh")
    _queue_ticket(config)
    monkeypatch.setenv("GITHUB_TOKEN", "revoked")
    tracker = build_tracker(config, "gh")
    counted = reset_metrics()
    report = dispatch_tracker_once(config, tracker, owner="w1")
    assert report.failed == 1 and fake.state()["items"] == []
    assert counted.tracker_write_failures.labels("gh", "failed")._value.get() == 1  # what alerts see
    assert tracker_alert(config).startswith("github tracker 'gh' refuses our credentials")
    assert dispatch_tracker_once(config, tracker, owner="w1").claimed == 0  # failed waits for a person


def test_rate_limits_are_honoured_and_hold_the_tracker(db, db_url, make_fake):
    fake = make_fake("zendesk")
    config = make_config(db_url, trackers={"zd": tracker_settings("zendesk", fake)}, default="zd", max_backoff_s=120)
    crid = enqueue_create(config, facts(), actor="dana")
    enqueue_create(config, facts(), actor="dana")
    fake.set_faults(script=[{"fault": "status", "status": 429, "retry_after": 40}])
    tracker = build_tracker(config, "zd")
    before = time.time()
    report = dispatch_tracker_once(config, tracker, owner="w1")
    row = TrackerWriteRow.get(TrackerWriteRow.command_result_id == crid)
    assert report.claimed == 1 and report.blocked_until >= before + 40  # the second write was not tried
    assert row.state == "retry" and row.not_before >= before + 40 and row.error_kind == "rate_limited"
    assert not row.outcome_unknown


def test_an_outcome_that_stays_unknown_goes_to_a_human(db, db_url, make_fake):
    fake = make_fake("jira")
    config = make_config(db_url, trackers={"j": tracker_settings("jira", fake)}, default="j", max_unknown_attempts=2)
    crid = enqueue_create(config, facts(), actor="dana")
    fake.set_faults(script=[{"fault": "status", "status": 502, "count": 5, "method": "POST", "path": "/3/issue"}])
    tracker = build_tracker(config, "j")
    counted = reset_metrics()
    for i in range(3):
        dispatch_tracker_once(config, tracker, owner="w", now=time.time() + 600 * i)
    row = TrackerWriteRow.get(TrackerWriteRow.command_result_id == crid)
    assert row.state == "needs_reconciliation" and row.unknown_attempts == 2
    failures = counted.tracker_write_failures
    assert (failures.labels("j", "outcome_unknown")._value.get(), failures.labels("j", "needs_reconciliation")._value.get(),
            counted.tracker_writes.labels("j", "create")._value.get()) == (1, 1, 0)
    assert [p.problem for p in tracker_problems(config)] == ["needs_human"]


def _dead_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_a_tracker_that_is_down_queues_its_writes_and_blocks_nothing_else(db, db_url, make_fake, monkeypatch):
    fake = make_fake("webhook")
    down = {"kind": "github", "api_url": f"http://127.0.0.1:{_dead_port()}", "repo": "acme/x", "timeout_s": 1.0}
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    config = make_config(db_url, trackers={"down": down, "wh": tracker_settings("webhook", fake)}, default="down")
    for _ in range(3):
        enqueue_create(config, facts(), actor="dana")
    routed = make_config(db_url, trackers=config.model_dump()["trackers"], default="wh")
    wh = [enqueue_create(routed, facts(), actor="dana") for _ in range(3)]
    set_stop_switch(True, actor="oncall", reason="incident", key=STOP_SWITCH)  # F9 holds mail, not trackers
    dispatcher = TrackerDispatcher(config, owner="test")
    dispatcher.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if TrackerWriteRow.select().where(TrackerWriteRow.command_result_id.in_(wh)
                                          & (TrackerWriteRow.state == "done")).count() == 3:
            break
        time.sleep(0.05)
    dispatcher.stop()
    assert TrackerWriteRow.select().where(TrackerWriteRow.command_result_id.in_(wh)
                                          & (TrackerWriteRow.state == "done")).count() == 3
    stuck = TrackerWriteRow.select().where(TrackerWriteRow.tracker == "down")
    assert {r.state for r in stuck} <= {"pending", "retry"} and any(r.error_kind == "unavailable" for r in stuck)
    assert "unreachable" in tracker_alert(config)
    assert "down" in dispatcher.problems()
