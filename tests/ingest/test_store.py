"""Ingest writes against a real database: idempotence, ticket links, flags, quarantine, status, labels."""

from __future__ import annotations

from datetime import datetime, timezone

from triage_tui.domain import Address, Header, InboundMessage, RuleEvaluation, Suggestion
from triage_tui.ingest.signals import compute_signals
from triage_tui.store.messages import InboxScope, PreparedMessage, quarantine_message, store_batch
from triage_tui.store.labels import approved_examples, labelled_decision_count
from triage_tui.store.models import AuditRow, DecisionRow, MessageBody, MessageRow, SuggestionRow, ThreadRow, TicketRow
from triage_tui.store.status import store_status
from triage_tui.store.text import loads
from triage_tui.store.watermarks import advance_watermark, read_watermark
from triage_tui.store.webhook_events import claim_events, mark_events, record_event, DONE

SCOPE = InboxScope(tenant_id="acme", environment="test", grant_id="g1", agent_account_email="support@acme.example",
                   workspace_id="ws-1", policy_id="pol-1")
SUGGESTION = Suggestion(category="billing", urgency="high", confidence=0.9, reasons=["invoice"],
                        classification_version="rules-abc")


def prepared(mid: str, *, thread="t1", headers=(), subject="Invoice wrong", body="Please fix invoice",
             trigger="poll", evaluation=None) -> PreparedMessage:
    msg = InboundMessage(grant_id="g1", message_id=mid, thread_id=thread, subject=subject,
                         sender=Address(email="ana@customer.example", name="Ana"),
                         received_at=datetime(2026, 11, 1, tzinfo=timezone.utc), body_text=body,
                         headers=[Header(name=n, value=v) for n, v in headers])
    signals = compute_signals(msg, own_addresses=[SCOPE.agent_account_email])
    return PreparedMessage(message=msg, signals=signals, suggestion=SUGGESTION, trigger=trigger,
                           evaluation=evaluation)


def test_a_message_is_stored_once_whatever_arrives_twice(db):
    evaluation = RuleEvaluation(grant_id="g1", message_id="m1", policy_id="pol-api", rule_ids=["r1", "r2"])
    first = store_batch(SCOPE, [prepared("m1", evaluation=evaluation), prepared("m1")])
    second = store_batch(SCOPE, [prepared("m1", trigger="message.created")])
    assert first.stored == ["m1"] and first.duplicates == ["m1"]
    assert second.stored == [] and second.duplicates == ["m1"]
    row = MessageRow.get()
    assert MessageRow.select().count() == 1 and SuggestionRow.select().count() == 1
    assert (row.workspace_id, row.policy_id, loads(row.rule_ids)) == ("ws-1", "pol-1", ["r1", "r2"])
    assert row.classification_version == "rules-abc" and row.state == "new" and row.urgency_rank == 1
    assert AuditRow.select().where(AuditRow.action == "ingest.duplicate").count() == 2
    assert AuditRow.select().where(AuditRow.action == "ingest.stored").count() == 1


def test_automated_mail_is_stored_flagged_dismissed_and_never_suggested(db):
    store_batch(SCOPE, [prepared("auto", headers=[("Auto-Submitted", "auto-replied")]),
                        prepared("list", thread="t2", headers=[("List-Id", "<x.example>")])])
    for row in MessageRow.select():
        assert row.state == "dismissed"
        assert "automated" in loads(row.flags)
        assert loads(MessageBody.get(MessageBody.message == row.id).signals)["reasons"]
    assert SuggestionRow.select().count() == 0


def test_every_stored_urgency_agrees_with_its_sort_rank(db):
    from triage_tui.store.queue import urgency_rank

    store_batch(SCOPE, [prepared("human"), prepared("auto", thread="t2", headers=[("Auto-Submitted", "auto-replied")])])
    quarantine_message(SCOPE, "bad", "ValueError: undecodable", attempts=3, trigger="poll")
    rows = {row.message_id: row for row in MessageRow.select()}
    assert {mid: (r.urgency, r.urgency_rank) for mid, r in rows.items()} == {
        "human": ("high", 1), "auto": ("low", 3), "bad": ("normal", 2)}
    assert all(r.urgency_rank == urgency_rank(r.urgency) for r in rows.values())


def test_a_message_of_a_ticketed_thread_is_linked(db):
    store_batch(SCOPE, [prepared("m1")])
    TicketRow.create(ticket_id="T-7", tenant_id="acme", environment="test", grant_id="g1", thread_id="t1",
                     category="billing", urgency="high", created_at=1, created_by="oncall")
    store_batch(SCOPE, [prepared("m2")])
    row = MessageRow.get(MessageRow.message_id == "m2")
    assert (row.state, row.ticket_id, row.thread_id, row.grant_id) == ("ticket", "T-7", "t1", "g1")
    thread = ThreadRow.get()
    assert loads(thread.message_ids) == ["m1", "m2"]


def test_hostile_text_is_made_safe_and_huge_bodies_truncated(db):
    store_batch(SCOPE, [prepared("nul", subject="a\x00b\udcff", body="x" * 600_000)])
    row = MessageRow.get()
    body = MessageBody.get()
    assert row.subject == "ab\ufffd"
    assert body.truncated and len(body.body_text) == 512_000
    assert "truncated" in loads(row.flags)


def test_quarantined_message_stays_visible_with_its_reason(db):
    assert quarantine_message(SCOPE, "bad", "ValueError: undecodable", attempts=3, trigger="poll")
    assert not quarantine_message(SCOPE, "bad", "again", attempts=4, trigger="poll")
    row = MessageRow.get()
    assert (row.state, row.attempts, row.last_error) == ("quarantined", 3, "ValueError: undecodable")
    assert store_status().quarantined == 1


def test_status_counts(db):
    store_batch(SCOPE, [prepared("m1"), prepared("m2", thread="t2", headers=[("Precedence", "bulk")])])
    record_event("e1", grant_id="g1", message_id="m3", trigger="message.created", raw=b"{}")
    advance_watermark("g1", 1_700_000_000)
    status = store_status()
    assert (status.messages, status.threads, status.pending_suggestions) == (2, 2, 1)
    assert status.messages_by_state == {"new": 1, "dismissed": 1}
    assert status.webhook_events_by_status == {"pending": 1}
    assert status.last_sync[0].grant_id == "g1" and status.last_sync[0].last_sync_at is not None
    assert status.stop_switch.on is False


def test_watermark_only_moves_forward(db):
    advance_watermark("g1", 200)
    advance_watermark("g1", 100)
    assert read_watermark("g1").received_after == 200


def test_events_are_claimed_once(db):
    assert record_event("e1", grant_id="g1", message_id="m1", trigger="message.created", raw=b"{}")
    assert not record_event("e1", grant_id="g1", message_id="m1", trigger="message.created", raw=b"{}")
    claimed = claim_events(10)
    assert [e.event_id for e in claimed] == ["e1"]
    assert claim_events(10) == []
    mark_events([claimed[0].row_id], DONE)
    assert claim_events(10, lease_s=0) == []


def test_approved_examples_come_from_decisions_that_named_a_category(db):
    store_batch(SCOPE, [prepared("m1", subject="Refund please", body="double charge")])
    for i, (kind, category) in enumerate([("approve_ticket", "bug"), ("approve_ticket", "billing"),
                                          ("reject", "")]):
        DecisionRow.create(decision_id=f"d{i}", grant_id="g1", message_id="m1", kind=kind, category=category,
                           actor="oncall", decided_at=i)
    assert approved_examples() == [("Refund please\ndouble charge", "billing")]
    assert labelled_decision_count() == 2
