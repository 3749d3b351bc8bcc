"""The tracker-write outbox in the store: routing, queueing in the caller's transaction, order, pauses, leases."""

from __future__ import annotations

import time

import pytest

from triage_tui.domain import Address
from triage_tui.outbound.tracker_claims import begin_write, claim_next, reap, record_result
from triage_tui.store.control import TRACKER_PAUSE, set_stop_switch
from triage_tui.store.db import write_transaction
from triage_tui.store.models import AuditRow, TrackerLinkRow, TrackerWriteRow
from triage_tui.store.tracker_queries import list_tickets, retry_writes, tracker_problems
from triage_tui.store.tracker_writes import enqueue_comment, enqueue_create, enqueue_status
from tests.trackers.helpers import facts, make_config

GH = {"kind": "github", "api_url": "http://127.0.0.1:9", "repo": "acme/support"}
WH = {"kind": "webhook", "url": "http://127.0.0.1:9/hook"}


def _config(db_url, **kw):
    return make_config(db_url, trackers={"gh": GH, "wh": WH}, **kw)


def _land(config, tracker, key="#1", now=None):
    now = time.time() if now is None else now
    claim, paused = claim_next(config, tracker, "w1", now)
    assert claim is not None and not paused
    assert begin_write(claim, now, 30) == "started"
    assert record_result(claim, now, external_id=key.strip("#"), external_key=key, url=f"http://x/{key}")
    return claim


def test_local_tracker_links_the_ticket_to_itself_and_queues_nothing(db, db_url):
    config = _config(db_url)
    f = facts()
    assert enqueue_create(config, f, actor="dana") is None
    assert enqueue_comment(config, ticket_id=f.ticket_id, source_id="m2", author="customer", text="hi", actor="x") == []
    link = TrackerLinkRow.get(TrackerLinkRow.ticket_id == f.ticket_id)
    assert (link.tracker, link.external_key) == ("local", f.ticket_id)
    assert TrackerWriteRow.select().count() == 0
    assert [t.links[0].external_key for t in list_tickets()] == [f.ticket_id]


def test_the_tracker_comes_from_the_inbox_or_the_default_and_a_ticket_is_queued_once(db, db_url):
    config = _config(db_url, default="wh", inbox_tracker="gh")
    f = facts()
    first = enqueue_create(config, f, actor="dana")
    again = enqueue_create(config, f.model_copy(update={"subject": "changed"}), actor="dana")
    row = TrackerWriteRow.get()
    assert first == again == row.command_result_id and (row.tracker, row.kind, row.op) == ("gh", "github", "create")
    assert AuditRow.select().where(AuditRow.action == "tracker.queued").count() == 1
    assert enqueue_create(_config(db_url, default="wh"), facts(), actor="dana")  # other inbox config: default
    assert TrackerWriteRow.select().where(TrackerWriteRow.tracker == "wh").count() == 1


def test_queueing_is_part_of_the_callers_transaction(db, db_url):
    config = _config(db_url, default="gh")
    with pytest.raises(RuntimeError):
        with write_transaction():
            enqueue_create(config, facts(), actor="dana")
            raise RuntimeError("the approval failed")
    assert TrackerWriteRow.select().count() == 0


def test_comments_and_status_wait_for_the_create_and_keep_their_order(db, db_url):
    config = _config(db_url, default="gh")
    f = facts()
    enqueue_create(config, f, actor="dana")
    c1 = enqueue_comment(config, ticket_id=f.ticket_id, source_id="m2", author="customer", text="one",
                         sender=Address(email="jane@customer.example"), actor="ingest")
    c2 = enqueue_comment(config, ticket_id=f.ticket_id, source_id="r1", author="agent", text="two", actor="dana")
    assert enqueue_comment(config, ticket_id=f.ticket_id, source_id="m2", author="customer", text="one", actor="x") == c1
    s1 = enqueue_status(config, ticket_id=f.ticket_id, status="solved", source_id="d9", actor="dana")
    now = time.time()
    create, _ = claim_next(config, "gh", "w1", now)
    assert create.row.op == "create"
    assert claim_next(config, "gh", "w2", now) == (None, False)  # the comment waits for the create
    begin_write(create, now, 30)
    record_result(create, now, external_id="7", external_key="#7", url="http://x/7")
    first, _ = claim_next(config, "gh", "w2", now)
    assert first.row.command_result_id == c1[0] and first.link.external_key == "#7"
    assert claim_next(config, "gh", "w3", now) == (None, False)  # the second waits for the first
    begin_write(first, now, 30)
    record_result(first, now, remote_id="c1")
    second, _ = claim_next(config, "gh", "w3", now)
    assert second.row.command_result_id == c2[0]
    begin_write(second, now, 30)
    record_result(second, now)
    assert claim_next(config, "gh", "w4", now)[0].row.command_result_id == s1[0]


def test_the_tracker_pause_holds_tracker_writes_and_the_stop_switch_does_not(db, db_url):
    config = _config(db_url, default="gh")
    enqueue_create(config, facts(), actor="dana")
    set_stop_switch(True, actor="oncall", reason="incident")
    claim, paused = claim_next(config, "gh", "w1", time.time())
    assert claim is not None and not paused  # F9 holds customer mail only
    set_stop_switch(True, actor="oncall", reason="tracker flood", key=TRACKER_PAUSE)
    assert begin_write(claim, time.time(), 30) == "held"
    assert claim_next(config, "gh", "w1", time.time() + 1) == (None, True)
    assert "paused by oncall" in tracker_problems(config)[0].line
    set_stop_switch(False, actor="oncall", key=TRACKER_PAUSE)
    assert claim_next(config, "gh", "w1", time.time() + 1)[0] is not None
    actions = [a for (a,) in AuditRow.select(AuditRow.action).where(AuditRow.action.startswith("tracker_pause")).order_by(AuditRow.id).tuples()]
    assert actions == ["tracker_pause.on", "tracker_pause.off"]


def test_an_expired_write_comes_back_as_outcome_unknown_then_goes_to_a_human(db, db_url):
    config = _config(db_url, default="gh", max_unknown_attempts=2, lease_s=5)
    crid = enqueue_create(config, facts(), actor="dana")
    now = time.time()
    for round_ in range(2):
        claim, _ = claim_next(config, "gh", f"w{round_}", now)
        assert claim.prior_unknown == (round_ == 1)
        begin_write(claim, now, 5)
        now += 10
        reap(config, now)
    row = TrackerWriteRow.get(TrackerWriteRow.command_result_id == crid)
    assert (row.state, row.outcome_unknown, row.unknown_attempts) == ("needs_reconciliation", True, 2)
    stale = record_result(claim, now, external_id="1", external_key="#1")
    assert not stale and TrackerLinkRow.select().count() == 0  # the superseded worker cannot record
    assert "needs a human" in tracker_problems(config)[0].line
    assert retry_writes(crid, actor="dana") == [crid]
    again, _ = claim_next(config, "gh", "w9", now)
    assert again.prior_unknown  # a retry after an unknown outcome looks before it writes


def test_a_write_queued_for_another_kind_of_tracker_is_not_sent_there(db, db_url):
    from triage_tui.outbound.tracker_dispatch import dispatch_tracker_once
    from triage_tui.trackers.registry import LocalTracker

    config = _config(db_url, default="gh")
    crid = enqueue_create(config, facts(), actor="dana")
    report = dispatch_tracker_once(config, LocalTracker("gh"), owner="w1")
    row = TrackerWriteRow.get(TrackerWriteRow.command_result_id == crid)
    assert report.failed == 1 and row.state == "failed" and row.error_kind == "config"
