"""The ticket lifecycle, one function per transition, each inside the caller's write transaction.

    approve                   (none) -> open          a person approves the conversation
    reply_sent                open -> pending         the dispatcher sent our reply
    customer_message_arrived  pending/solved -> open  a customer wrote again (automated mail never calls it)
    solve                     open/pending -> solved  a person solves it
    reopen                    pending/solved -> open  a person reopens it

Each one writes the decision (when the status changes) and an audit row, both carrying a fresh
`command_result_id`, updates the ticket and its conversation, and returns a `TicketChange`: the
place where tracker writes (create, comment on a customer message or a reply we sent, status
sync) hook in, keyed by that command_result_id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from triage_tui.domain import ConversationState, Decision, DecisionKind, MailKind, MessageState, TicketStatus
from triage_tui.store import conversations
from triage_tui.store.decision_rows import (
    DecisionError,
    audit_decision,
    new_command_result_id,
    write_decision,
)
from triage_tui.store.models import ConversationRow, MessageRow, ThreadRow, TicketRow

STATE_OF_STATUS = {
    TicketStatus.OPEN.value: ConversationState.OPEN,
    TicketStatus.PENDING.value: ConversationState.PENDING,
    TicketStatus.SOLVED.value: ConversationState.SOLVED,
}
URGENCY_RANKS = {"critical": 0, "high": 1, "normal": 2, "low": 3}
# Approval moves the customer's messages into the ticket; replies already sent and poison stay put.
KEEP_STATE_ON_TICKET = (MessageState.REPLIED.value, MessageState.QUARANTINED.value)


@dataclass(frozen=True)
class TicketChange:
    """What one ticket transition did (status_before is "" for a ticket just created)."""

    transition: str  # create, link, pending, reply, reopen, customer_message, solve
    ticket_id: str
    grant_id: str
    thread_id: str
    message_id: str
    status_before: str
    status_after: str
    decision_id: str
    command_result_id: str
    actor: str
    at: float

    @property
    def changed(self) -> bool:
        """True when the ticket's status moved."""
        return self.status_before != self.status_after


def approve(conversation: ConversationRow, message: MessageRow, *, actor: str, category: str, urgency: str,
            at: float, detail: dict) -> tuple[Decision, TicketChange]:
    """Create the conversation's ticket (open), or link the decision to the ticket it already has."""
    if message.kind != MailKind.CUSTOMER.value:
        raise DecisionError("automated mail never becomes a ticket: approve a message a customer wrote")
    new_id = ticket_reference(conversation)
    inserted = list(TicketRow.insert(
        ticket_id=new_id, tenant_id=conversation.tenant_id, environment=conversation.environment,
        grant_id=conversation.grant_id, thread_id=conversation.thread_id, category=category, urgency=urgency,
        status=TicketStatus.OPEN.value, created_at=at, created_by=actor, updated_at=at,
    ).on_conflict_ignore().returning(TicketRow.id).tuples().execute())
    ticket = TicketRow.get(TicketRow.grant_id == conversation.grant_id, TicketRow.thread_id == conversation.thread_id)
    created = bool(inserted)
    crid = new_command_result_id()
    decision = write_decision(message, DecisionKind.APPROVE_TICKET, actor, at, category=category, urgency=urgency,
                              ticket_id=ticket.ticket_id, command_result_id=crid)
    if created:
        TicketRow.update(decision_id=decision.decision_id).where(TicketRow.id == ticket.id).execute()
    MessageRow.update(category=category, urgency=urgency, urgency_rank=URGENCY_RANKS.get(urgency, 2),
                      updated_at=at).where(MessageRow.id == message.id).execute()
    customer = (MessageRow.conversation_id == conversation.id) & (MessageRow.kind == MailKind.CUSTOMER.value)
    MessageRow.update(ticket_id=ticket.ticket_id, updated_at=at).where(customer).execute()
    linked = MessageRow.update(state=MessageState.TICKET.value, snooze_until=None, updated_at=at).where(
        customer & MessageRow.state.not_in(KEEP_STATE_ON_TICKET)).execute()
    ThreadRow.update(ticket_id=ticket.ticket_id, updated_at=at).where(
        ThreadRow.grant_id == conversation.grant_id, ThreadRow.thread_id == conversation.thread_id).execute()
    conversations.set_state(conversation.id, STATE_OF_STATUS.get(ticket.status, ConversationState.OPEN), at,
                            ticket_id=ticket.ticket_id, ticket_status=ticket.status)
    conversations.derive([conversation.id], at)
    audit_decision(message, "decision.approve_ticket", decision, at, {**detail, "ticket_created": created,
                                                                       "thread_messages_linked": linked},
                   command_result_id=crid)
    if created:
        audit_decision(message, "ticket.create", decision, at, {"category": category, "urgency": urgency,
                                                               "status": ticket.status},
                       command_result_id=crid)
    change = TicketChange("create" if created else "link", ticket.ticket_id, conversation.grant_id,
                          conversation.thread_id, message.message_id, "" if created else ticket.status,
                          ticket.status, decision.decision_id, crid, actor, at)
    return decision, change


def ticket_reference(conversation: ConversationRow) -> str:
    """The ticket id of a conversation: stable for its grant and thread, so a retry makes the same one."""
    seed = "\x1f".join((conversation.tenant_id, conversation.environment, conversation.grant_id,
                        conversation.thread_id))
    return f"TKT-{hashlib.sha256(seed.encode()).hexdigest()[:12].upper()}"


def reply_sent(grant_id: str, reply_to_message_id: str, *, at: float, actor: str, sent_message_id: str = "",
               reply_command_result_id: str = "") -> TicketChange | None:
    """Our reply went out: its conversation is answered, and an open ticket becomes pending."""
    message = MessageRow.get_or_none((MessageRow.grant_id == grant_id)
                                     & (MessageRow.message_id == reply_to_message_id))
    if message is None:
        return None
    conversation = conversations.of_message(message, at)
    conversations.answered(conversation.id, at, at)
    ticket = _ticket_of(conversation)
    if ticket is None:
        return None
    detail = {"sent_message_id": sent_message_id, "reply_command_result_id": reply_command_result_id}
    if ticket.status == TicketStatus.OPEN.value:
        return _move(conversation, message, ticket, TicketStatus.PENDING, DecisionKind.TICKET_PENDING, "pending",
                     actor, at, reason="we replied; waiting on the customer", detail=detail)
    return _note(conversation, message, ticket, "reply", actor, at, detail)


def customer_message_arrived(conversation: ConversationRow, message: MessageRow, *, at: float,
                             actor: str = "ingest") -> TicketChange | None:
    """A customer wrote on a ticketed conversation: pending or solved goes back to open."""
    if message.kind != MailKind.CUSTOMER.value:
        raise ValueError("only customer mail may move a ticket")
    ticket = _ticket_of(conversation)
    if ticket is None:
        return None
    if ticket.status != TicketStatus.OPEN.value:
        return _move(conversation, message, ticket, TicketStatus.OPEN, DecisionKind.REOPEN_TICKET, "reopen",
                     actor, at, reason="the customer wrote again")
    if conversation.state != ConversationState.OPEN.value:
        conversations.set_state(conversation.id, ConversationState.OPEN, at)
    return _note(conversation, message, ticket, "customer_message", actor, at, {})


def solve(conversation: ConversationRow, message: MessageRow, *, actor: str, at: float,
          reason: str = "") -> TicketChange:
    """A person solved the ticket; it reopens if the customer writes again."""
    ticket = _ticket_of(conversation)
    if ticket is None:
        raise DecisionError("this conversation has no ticket to solve: approve it first")
    if ticket.status == TicketStatus.SOLVED.value:
        raise DecisionError(f"ticket {ticket.ticket_id} is already solved")
    change = _move(conversation, message, ticket, TicketStatus.SOLVED, DecisionKind.SOLVE_TICKET, "solve",
                   actor, at, reason=reason)
    conversations.answered(conversation.id, at, at)
    return change


def reopen(conversation: ConversationRow, message: MessageRow, *, actor: str, at: float,
           reason: str = "") -> TicketChange:
    """A person reopened a pending or solved ticket."""
    ticket = _ticket_of(conversation)
    if ticket is None:
        raise DecisionError("this conversation has no ticket to reopen")
    if ticket.status == TicketStatus.OPEN.value:
        raise DecisionError(f"ticket {ticket.ticket_id} is already open")
    return _move(conversation, message, ticket, TicketStatus.OPEN, DecisionKind.REOPEN_TICKET, "reopen",
                 actor, at, reason=reason)


def _ticket_of(conversation: ConversationRow) -> TicketRow | None:
    if conversation.ticket_id:
        found = TicketRow.get_or_none(TicketRow.ticket_id == conversation.ticket_id)
        if found is not None:
            return found
    return TicketRow.get_or_none((TicketRow.grant_id == conversation.grant_id)
                                 & (TicketRow.thread_id == conversation.thread_id))


def _move(conversation: ConversationRow, message: MessageRow, ticket: TicketRow, to: TicketStatus,
          kind: DecisionKind, transition: str, actor: str, at: float, *, reason: str = "",
          detail: dict | None = None) -> TicketChange:
    before = ticket.status
    crid = new_command_result_id()
    TicketRow.update(status=to.value, updated_at=at).where(TicketRow.id == ticket.id).execute()
    conversations.set_state(conversation.id, STATE_OF_STATUS[to.value], at, ticket_id=ticket.ticket_id,
                            ticket_status=to.value)
    decision = write_decision(message, kind, actor, at, reason=reason, ticket_id=ticket.ticket_id,
                              command_result_id=crid)
    audit_decision(message, f"ticket.{transition}", decision, at,
                   {"status_before": before, "status_after": to.value, "reason": reason, **(detail or {})},
                   command_result_id=crid)
    return TicketChange(transition, ticket.ticket_id, conversation.grant_id, conversation.thread_id,
                        message.message_id, before, to.value, decision.decision_id, crid, actor, at)


def _note(conversation: ConversationRow, message: MessageRow, ticket: TicketRow, transition: str, actor: str,
          at: float, detail: dict) -> TicketChange:
    """No status change, but something a tracker may want to hear about (an audit row, no decision)."""
    crid = new_command_result_id()
    audit_decision(message, f"ticket.{transition}", None, at, {"status": ticket.status, **detail},
                   actor=actor, ticket_id=ticket.ticket_id, command_result_id=crid)
    return TicketChange(transition, ticket.ticket_id, conversation.grant_id, conversation.thread_id,
                        message.message_id, ticket.status, ticket.status, "", crid, actor, at)
