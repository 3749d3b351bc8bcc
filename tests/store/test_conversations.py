"""Conversations through the real ingest write path: automated mail never moves a ticket, customers do,
a second copy of a Message-ID is absorbed, and a bounce is shown under the reply it reports on."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from triage_tui.config import Config
from triage_tui.domain import Address, Attachment, Header, InboundMessage, Suggestion
from triage_tui.ingest.signals import compute_signals
from triage_tui.store import tickets
from triage_tui.store.db import write_transaction
from triage_tui.store.decisions import DecisionError, approve_ticket, reject, solve_ticket
from triage_tui.store.messages import InboxScope, PreparedMessage, store_batch
from triage_tui.store.models import (AuditRow, ConversationRow, DecisionRow, MessageRow, SuggestionRow,
                                     TicketRow)
from triage_tui.store.text import loads
from triage_tui.store.threads import message_detail

AGENT = "support@acme.example"
CUSTOMER = "ana@customer.example"
SCOPE = InboxScope(tenant_id="acme", environment="test", grant_id="g1", agent_account_email=AGENT)
START = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
CONFIG = Config()
SUGGESTION = Suggestion(category="billing", urgency="high", confidence=0.9, classification_version="rules-1")
# One realistic message of each automated kind (an auto-reply that also says Precedence: bulk stays one).
AUTOMATED = {
    "auto_reply": dict(headers=[("Auto-Submitted", "auto-replied"), ("Precedence", "bulk")],
                       subject="Automatic reply: Invoice wrong"),
    "bounce": dict(sender="MAILER-DAEMON@mx.customer.example", subject="Undelivered Mail Returned to Sender",
                   headers=[("Auto-Submitted", "auto-replied"), ("Return-Path", "<>")],
                   attachments=[Attachment(content_type="message/delivery-status")],
                   body=f"<{CUSTOMER}>: 550 5.1.1 Recipient address rejected: User unknown"),
    "mailing_list": dict(headers=[("List-Id", "<news.customer.example>"), ("Precedence", "list")]),
    "loop_suspected": dict(headers=[("X-Loop", "helpdesk@customer.example")]),
    "own_outbound": dict(sender=AGENT, headers=[("X-Triage-Ticket", "none")], to=CUSTOMER),
}


def mail(mid: str, *, minutes: int, thread: str = "t1", sender: str = CUSTOMER, subject: str = "Invoice wrong",
         headers=(), body: str = "Please fix the invoice", attachments=(), to: str = AGENT,
         message_id: str | None = "") -> PreparedMessage:
    """A message through the real signal code; `message_id` None means the mail has no Message-ID."""
    rfc = f"<{mid}@mail.example>" if message_id == "" else (message_id or "")
    extra = [Header(name="Message-ID", value=rfc)] if rfc else []
    msg = InboundMessage(grant_id="g1", message_id=mid, thread_id=thread, subject=subject,
                         sender=Address(email=sender), to=[Address(email=to)], body_text=body,
                         received_at=START + timedelta(minutes=minutes), internet_message_id=rfc,
                         in_reply_to=next((v for n, v in headers if n == "In-Reply-To"), ""),
                         headers=extra + [Header(name=n, value=v) for n, v in headers],
                         attachments=list(attachments))
    signals = compute_signals(msg, own_addresses=[AGENT])
    return PreparedMessage(message=msg, signals=signals, suggestion=None if signals.automated else SUGGESTION,
                           trigger="poll")


def conversation(thread: str = "t1") -> ConversationRow:
    return ConversationRow.get(ConversationRow.grant_id == "g1", ConversationRow.thread_id == thread)


def key(mid: str) -> int:
    return MessageRow.get(MessageRow.message_id == mid).id


def at(minutes: int) -> float:
    return (START + timedelta(minutes=minutes)).timestamp()


def to_phase(phase: str) -> None:
    """A customer's conversation in thread t1, left untriaged or taken to a ticket status."""
    store_batch(SCOPE, [mail("c1", minutes=0)], now=at(1))
    if phase == "untriaged":
        return
    approve_ticket(key("c1"), actor="ana", config=CONFIG, now=at(2))
    if phase in ("pending", "solved"):
        with write_transaction():
            tickets.reply_sent("g1", "c1", at=at(3), actor="dispatcher")
    if phase == "solved":
        solve_ticket(key("c1"), actor="ana", config=CONFIG, now=at(4))


@pytest.mark.parametrize("phase", ["untriaged", "open", "pending", "solved"])
def test_automated_mail_never_moves_requeues_or_joins_a_ticket(db, phase):
    to_phase(phase)
    before = conversation()
    decisions, tickets_before = DecisionRow.select().count(), list(TicketRow.select().tuples())
    for minute, (kind, fields) in enumerate(sorted(AUTOMATED.items(), key=lambda kv: kv[0] == "own_outbound"),
                                            start=10):
        result = store_batch(SCOPE, [mail(f"{kind}-1", minutes=minute, **fields)], now=at(minute))
        row = MessageRow.get(MessageRow.message_id == f"{kind}-1")
        assert result.stored == [row.message_id] and result.ticket_changes == []
        assert (row.kind, row.state, row.ticket_id) == (kind, "dismissed", ""), kind
        assert SuggestionRow.get_or_none(SuggestionRow.message == row.id) is None
        after = conversation()
        assert row.conversation_id == after.id
        assert (after.state, after.ticket_status, after.ticket_id) == (before.state, before.ticket_status,
                                                                      before.ticket_id), kind
        assert after.sort_at == before.sort_at, kind  # never re-queued above where it was
        if kind != "own_outbound":  # our own mail answers what came before it; nothing else does
            assert after.sla_started_at == before.sla_started_at, kind
        with pytest.raises(DecisionError, match="automated mail never becomes a ticket"):
            approve_ticket(row.id, actor="ana", config=CONFIG, category="bug", now=at(minute))
    assert conversation().message_count == 1 + len(AUTOMATED)
    assert DecisionRow.select().count() == decisions and list(TicketRow.select().tuples()) == tickets_before


def test_automated_mail_first_makes_no_queue_entry_until_a_customer_writes(db):
    store_batch(SCOPE, [mail(f"{kind}-0", minutes=i, thread="t9", **fields)
                        for i, (kind, fields) in enumerate(AUTOMATED.items())], now=at(6))
    assert conversation("t9").state == "automated" and conversation("t9").sla_started_at is None
    store_batch(SCOPE, [mail("c9", minutes=7, thread="t9")], now=at(8))
    assert conversation("t9").state == "new" and conversation("t9").sla_started_at == at(7)
    assert conversation("t9").message_id == "c9"  # the suggestion shown is the customer's


@pytest.mark.parametrize("phase", ["pending", "solved"])
def test_a_customer_writing_again_reopens_the_ticket_once_an_older_copy_does_not(db, phase):
    to_phase(phase)
    ticket_id = conversation().ticket_id
    late = store_batch(SCOPE, [mail("c0", minutes=-5)], now=at(20))  # written before our reply, read late
    assert late.ticket_changes == [] and conversation().state == phase
    result = store_batch(SCOPE, [mail("c2", minutes=30, subject="Re: Invoice wrong"),
                                 mail("c3", minutes=31, subject="Re: Invoice wrong")], now=at(32))
    first, second = result.ticket_changes
    assert (first.transition, first.status_before, first.status_after) == ("reopen", phase, "open")
    assert first.actor == "ingest" and first.message_id == "c2" and first.command_result_id
    assert (second.transition, second.decision_id) == ("customer_message", "")
    assert conversation().state == "open" and TicketRow.get().status == "open"
    assert conversation().sla_started_at == at(30)
    decision = DecisionRow.get(DecisionRow.decision_id == first.decision_id)
    assert (decision.kind, decision.ticket_id, decision.command_result_id) == ("reopen_ticket", ticket_id,
                                                                              first.command_result_id)
    audit = AuditRow.get(AuditRow.action == "ticket.reopen")
    assert audit.command_result_id == first.command_result_id and audit.decision_id == first.decision_id
    assert MessageRow.get(MessageRow.message_id == "c2").ticket_id == ticket_id


def test_the_lifecycle_writes_a_decision_and_audit_row_with_a_command_result_id_each_step(db):
    to_phase("untriaged")
    ticket = approve_ticket(key("c1"), actor="ana", config=CONFIG, now=at(2))
    assert ticket.status == "open" and conversation().state == "open"
    with write_transaction():
        pending = tickets.reply_sent("g1", "c1", at=at(3), actor="dispatcher-1", sent_message_id="sent-1")
        again = tickets.reply_sent("g1", "c1", at=at(4), actor="dispatcher-1")
    assert (pending.transition, pending.status_after, again.transition) == ("pending", "pending", "reply")
    assert conversation().state == "pending" and conversation().sla_started_at is None
    with pytest.raises(DecisionError, match="solve it instead"):
        reject(key("c1"), actor="ana", reason="not ours", config=CONFIG, now=at(5))
    assert solve_ticket(key("c1"), actor="ana", config=CONFIG, now=at(5)).status == "solved"
    with pytest.raises(DecisionError, match="already solved"):
        solve_ticket(key("c1"), actor="ana", config=CONFIG, now=at(6))
    from triage_tui.store.decisions import reopen_ticket

    assert reopen_ticket(key("c1"), actor="bo", config=CONFIG, now=at(7)).status == "open"
    kinds = [(d.kind, d.actor, bool(d.command_result_id)) for d in DecisionRow.select().order_by(DecisionRow.id)]
    assert kinds == [("approve_ticket", "ana", True), ("ticket_pending", "dispatcher-1", True),
                     ("solve_ticket", "ana", True), ("reopen_ticket", "bo", True)]
    actions = [a.action for a in AuditRow.select().where(AuditRow.action.startswith("ticket."))
               .order_by(AuditRow.id)]
    assert actions == ["ticket.create", "ticket.pending", "ticket.reply", "ticket.solve", "ticket.reopen"]
    crids = [a.command_result_id for a in AuditRow.select().where(AuditRow.action.startswith("ticket."))]
    assert all(crids) and len(set(crids)) == len(crids)


def test_a_second_copy_of_a_message_id_is_absorbed_and_audited_mail_without_one_never_merges(db):
    first = store_batch(SCOPE, [mail("a1", minutes=0, message_id="<same@customer.example>"),
                                mail("a2", minutes=0, message_id="<same@customer.example>")], now=at(1))
    later = store_batch(SCOPE, [mail("a3", minutes=2, thread="t-other", message_id="<same@customer.example>")],
                        now=at(3))
    assert (first.stored, first.duplicates, later.stored, later.duplicates) == (["a1"], ["a2"], [], ["a3"])
    assert MessageRow.select().count() == 1 and SuggestionRow.select().count() == 1
    assert ConversationRow.select().count() == 1 and conversation().message_count == 1
    details = [loads(a.detail) for a in AuditRow.select().where(AuditRow.action == "ingest.duplicate")]
    assert [(d["by"], d["duplicate_of"]) for d in details] == [("rfc_message_id", "a1")] * 2
    store_batch(SCOPE, [mail("n1", minutes=5, message_id=None), mail("n2", minutes=5, message_id=None)],
                now=at(6))
    assert MessageRow.select().where(MessageRow.rfc_message_id.is_null()).count() == 2


def test_a_bounce_of_our_reply_is_shown_under_that_reply_and_moves_nothing(db):
    to_phase("pending")
    ours = mail("r1", minutes=3, sender=AGENT, to=CUSTOMER, subject="Re: Invoice wrong",
                headers=[("X-Triage-Ticket", "T")])
    other = mail("x1", minutes=20, thread="t2", subject="Another question")
    bounce = mail("b1", minutes=40, thread="t-bounce", **AUTOMATED["bounce"])
    store_batch(SCOPE, [ours, other, bounce], now=at(41))
    row = MessageRow.get(MessageRow.message_id == "b1")
    assert row.bounce_of == "r1" and row.conversation_id == conversation().id
    assert conversation().state == "pending" and "bounce" in loads(conversation().flags)
    assert ConversationRow.get_or_none(ConversationRow.thread_id == "t-bounce") is None
    detail = message_detail(key("c1"))
    assert [m.message_id for m in detail.thread] == ["c1", "r1", "b1"]
    assert "bounce of our reply" in detail.notes["b1"] and detail.conversation.message_count == 3
    referenced = mail("b2", minutes=50, thread="t-b2", subject="Delivery Status Notification (Failure)",
                      sender="postmaster@mx.example", body="no address here",
                      headers=[("In-Reply-To", "<r1@mail.example>")])
    store_batch(SCOPE, [referenced], now=at(51))
    assert MessageRow.get(MessageRow.message_id == "b2").bounce_of == "r1"
