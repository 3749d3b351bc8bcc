"""Decisions: one transaction with the decision, its effect and an audit row carrying every id."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from tests.store.factories import BASE_TIME, add_suggestions, make_message, make_messages
from triage_tui.config import Config, InboxConfig, OutboundConfig
from triage_tui.domain import DecisionKind, MessageState, QueueFilter
from triage_tui.store.decisions import (
    DecisionError,
    approve_ticket,
    decide_batch,
    decisions_for,
    dismiss_spam,
    reject,
    snooze,
)
from triage_tui.store.models import AuditRow, DecisionRow, MessageRow, ThreadRow, TicketRow, database
from triage_tui.store.queue import queue_window

CONFIG = Config()
NOW = BASE_TIME + 1_000_000
CONTRACT_IDS = ("tenant_id", "environment", "grant_id", "message_id", "thread_id", "decision_id",
                "classification_version")


def counts() -> tuple[int, int, int, int]:
    return (DecisionRow.select().count(), AuditRow.select().count(), TicketRow.select().count(),
            MessageRow.select().where(MessageRow.state != "new").count())


def test_approve_writes_ticket_decision_audit_and_state(db):
    key = make_message(category="billing", urgency="high", thread_id="thr-1")
    ThreadRow.create(grant_id="grant-1", thread_id="thr-1", updated_at=BASE_TIME)

    ticket = approve_ticket(key, actor="ana", config=CONFIG, now=NOW)

    row = MessageRow.get_by_id(key)
    assert row.state == "ticket" and row.ticket_id == ticket.ticket_id
    assert ticket.category == "billing" and ticket.urgency == "high" and ticket.created_by == "ana"
    stored = TicketRow.get(TicketRow.ticket_id == ticket.ticket_id)
    assert (stored.grant_id, stored.thread_id, stored.tenant_id) == ("grant-1", "thr-1", "tenant-1")
    decision = DecisionRow.get(DecisionRow.message_id == row.message_id)
    assert decision.kind == "approve_ticket" and decision.category == "billing"
    assert stored.decision_id == decision.decision_id
    assert ThreadRow.get(ThreadRow.thread_id == "thr-1").ticket_id == ticket.ticket_id
    audit = AuditRow.get(AuditRow.action == "decision.approve_ticket")
    for field in CONTRACT_IDS:
        assert getattr(audit, field), field
    assert audit.ticket_id == ticket.ticket_id and audit.decision_id == decision.decision_id
    assert audit.classification_version == "rules-v1" and audit.actor == "ana"
    assert AuditRow.get(AuditRow.action == "ticket.create").ticket_id == ticket.ticket_id


def test_edited_category_and_urgency_are_the_label_and_move_the_row(db):
    key = make_message(category="billing", urgency="low")
    ticket = approve_ticket(key, actor="ana", config=CONFIG, category="bug", urgency="critical", now=NOW)
    assert (ticket.category, ticket.urgency) == ("bug", "critical")
    row = MessageRow.get_by_id(key)
    assert (row.category, row.urgency, row.urgency_rank) == ("bug", "critical", 0)
    [decision] = decisions_for("grant-1", row.message_id)
    assert decision.category == "bug" and decision.urgency == "critical"
    audit = AuditRow.get(AuditRow.action == "decision.approve_ticket")
    assert '"edited": true' in audit.detail and '"suggested_category": "billing"' in audit.detail


def test_two_messages_of_one_thread_make_one_ticket(db):
    first = make_message(thread_id="thr-x", received_at=BASE_TIME)
    second = make_message(thread_id="thr-x", received_at=BASE_TIME + 60)
    replied = make_message(thread_id="thr-x", received_at=BASE_TIME + 90, state="replied")
    t1 = approve_ticket(first, actor="ana", config=CONFIG, category="bug", now=NOW)
    assert MessageRow.get_by_id(second).state == "ticket"  # the thread moved with it
    assert MessageRow.get_by_id(replied).state == "replied"
    assert MessageRow.get_by_id(replied).ticket_id == t1.ticket_id
    t2 = approve_ticket(second, actor="bo", config=CONFIG, category="billing", now=NOW + 1)
    assert t1.ticket_id == t2.ticket_id and t2.category == "bug"
    assert TicketRow.select().count() == 1
    assert DecisionRow.select().count() == 2
    assert AuditRow.select().where(AuditRow.action == "ticket.create").count() == 1


def test_concurrent_approvals_of_one_thread_still_make_one_ticket(db):
    keys = [make_message(thread_id="thr-race") for _ in range(6)]
    errors, tickets = [], []

    def approve(key):
        try:
            with database.connection_context():
                tickets.append(approve_ticket(key, actor="ana", config=CONFIG, category="bug").ticket_id)
        except Exception as exc:  # noqa: BLE001 - the test reports every failure below
            errors.append(exc)

    workers = [threading.Thread(target=approve, args=(k,)) for k in keys]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert len(set(tickets)) == 1 and TicketRow.select().count() == 1


def test_approve_without_any_category_or_with_an_unknown_one_is_refused(db):
    key = make_message(category="")
    before = counts()
    with pytest.raises(DecisionError, match="choose a category"):
        approve_ticket(key, actor="ana", config=CONFIG, now=NOW)
    with pytest.raises(DecisionError, match="unknown category 'nope'"):
        approve_ticket(key, actor="ana", config=CONFIG, category="nope", now=NOW)
    with pytest.raises(DecisionError, match="unknown urgency"):
        approve_ticket(key, actor="ana", config=CONFIG, category="bug", urgency="asap", now=NOW)
    assert counts() == before


def test_approving_as_shown_is_refused_when_the_suggestion_changed_since(db):
    key = make_message(category="other", thread_id="thr-up")
    MessageRow.update(category="billing").where(MessageRow.id == key).execute()  # the worker upgraded it
    before = counts()
    with pytest.raises(DecisionError, match="changed from other to billing since it was shown"):
        approve_ticket(key, actor="ana", config=CONFIG, now=NOW, shown_category="other")
    assert counts() == before
    chosen = approve_ticket(key, actor="ana", config=CONFIG, now=NOW, category="other", shown_category="other")
    assert chosen.category == "other"  # a category picked by the person is theirs, whatever was suggested
    again = make_message(category="billing", thread_id="thr-same")
    assert approve_ticket(again, actor="ana", config=CONFIG, now=NOW, shown_category="billing").category == "billing"


def test_reject_needs_a_reason_and_a_refusal_writes_nothing(db):
    key = make_message()
    before = counts()
    for blank in ("", "   ", "\x00"):
        with pytest.raises(ValueError, match="needs a reason"):
            reject(key, actor="ana", reason=blank, config=CONFIG, now=NOW)
    assert counts() == before and MessageRow.get_by_id(key).state == "new"
    decision = reject(key, actor="ana", reason="vendor newsletter", config=CONFIG, now=NOW)
    assert decision.kind is DecisionKind.REJECT and decision.reason == "vendor newsletter"
    assert MessageRow.get_by_id(key).state == "dismissed"
    audit = AuditRow.get(AuditRow.action == "decision.reject")
    assert audit.decision_id == decision.decision_id and "vendor newsletter" in audit.detail


def test_reject_reason_can_be_made_optional_by_config(db):
    key = make_message()
    relaxed = Config(outbound=OutboundConfig(reject_reason_required=False))
    assert reject(key, actor="ana", reason="", config=relaxed, now=NOW).reason == ""


def test_snooze_hides_the_conversation_until_then_it_returns(db):
    key = make_message(urgency="critical")
    until = datetime.fromtimestamp(NOW + 3600, tz=timezone.utc)
    decision = snooze(key, actor="ana", until=until, config=CONFIG, now=NOW)
    assert decision.snooze_until == until
    assert MessageRow.get_by_id(key).state == "snoozed"
    for view in (QueueFilter(), QueueFilter(messages=True)):
        assert queue_window(view, now=NOW + 10) == []
        [back] = queue_window(view, now=NOW + 3601)
        assert back.decision_key == key and back.state == MessageState.SNOOZED
    with pytest.raises(DecisionError, match="in the future"):
        snooze(key, actor="ana", until=until - timedelta(hours=2), config=CONFIG, now=NOW)


def test_dismiss_spam_labels_spam(db):
    key = make_message(category="billing")
    decision = dismiss_spam(key, actor="ana", config=CONFIG, now=NOW)
    row = MessageRow.get_by_id(key)
    assert (row.state, row.category, decision.category) == ("dismissed", "spam", "spam")
    assert AuditRow.get(AuditRow.action == "decision.dismiss_spam").message_id == row.message_id


def test_batch_decides_each_marked_message(db):
    keys = make_messages(5)
    add_suggestions(keys)
    decisions = decide_batch(keys, DecisionKind.DISMISS_SPAM, actor="ana", config=CONFIG, now=NOW)
    assert len(decisions) == 5 and len({d.decision_id for d in decisions}) == 5
    assert MessageRow.select().where(MessageRow.state == "dismissed").count() == 5
    assert AuditRow.select().where(AuditRow.action == "decision.dismiss_spam").count() == 5
    tickets = decide_batch(keys[:3], "approve_ticket", actor="bo", config=CONFIG, category="bug", now=NOW)
    assert all(d.kind is DecisionKind.APPROVE_TICKET and d.category == "bug" for d in tickets)
    assert {d.ticket_id for d in tickets} == {t.ticket_id for t in TicketRow.select()}
    assert TicketRow.select().count() == 3


def test_a_batch_that_cannot_be_done_writes_nothing(db):
    keys = make_messages(3)
    before = counts()
    with pytest.raises(ValueError, match="needs a reason"):
        decide_batch(keys, DecisionKind.REJECT, actor="ana", config=CONFIG, reason=" ")
    with pytest.raises(DecisionError, match="no longer exist"):
        decide_batch(keys + [999_999], DecisionKind.REJECT, actor="ana", config=CONFIG, reason="x")
    with pytest.raises(DecisionError, match="until"):
        decide_batch(keys, DecisionKind.SNOOZE, actor="ana", config=CONFIG)
    with pytest.raises(DecisionError, match="cannot be decided in a batch"):
        decide_batch(keys, DecisionKind.APPROVE_REPLY, actor="ana", config=CONFIG)
    assert counts() == before


def test_messages_of_an_unconfigured_grant_and_anonymous_actors_are_refused(db):
    key = make_message(grant_id="grant-stranger")
    ours = Config(inboxes=[InboxConfig(grant_id="grant-1", email="support@agent.example")])
    with pytest.raises(DecisionError, match="not configured"):
        dismiss_spam(key, actor="ana", config=ours, now=NOW)
    with pytest.raises(DecisionError, match="name of the person"):
        dismiss_spam(key, actor=" ", config=CONFIG, now=NOW)
    with pytest.raises(DecisionError, match="no longer exists"):
        dismiss_spam(123_456, actor="ana", config=CONFIG, now=NOW)
    assert DecisionRow.select().count() == 0


def test_a_failing_effect_rolls_back_the_decision(db, monkeypatch):
    from triage_tui.store import decisions as module

    key = make_message()

    def broken_audit(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, "_audit", broken_audit)
    with pytest.raises(RuntimeError):
        reject(key, actor="ana", reason="nope", config=CONFIG, now=NOW)
    assert DecisionRow.select().count() == 0 and MessageRow.get_by_id(key).state == "new"

