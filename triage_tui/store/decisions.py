"""Human decisions about a conversation: each is one write transaction with its effect and an audit row.

A decision names one message (the conversation's latest customer message, or the message picked in
the message view) and acts on that message's whole conversation. Ticket transitions live in
`store/tickets.py`.
"""

from __future__ import annotations

import time
from datetime import datetime

from triage_tui.config import Config
from triage_tui.domain import ConversationState, Decision, DecisionKind, MailKind, MessageState, Ticket
from triage_tui.store import conversations, tickets, tracker_events
from triage_tui.store.db import write_transaction
from triage_tui.store.decision_rows import DecisionError, to_decision, to_ticket, write_decision
from triage_tui.store.decision_rows import audit_decision as _audit
from triage_tui.store.models import DecisionRow, MessageRow, TicketRow
from triage_tui.store.text import db_safe, from_epoch, to_epoch

__all__ = ["DecisionError", "approve_ticket", "reject", "snooze", "dismiss_spam", "solve_ticket", "reopen_ticket",
           "decide_batch", "decisions_for"]

SPAM_CATEGORY = "spam"
# The customer's messages still waiting in the queue leave it with their conversation.
_WAITING = (MessageState.NEW.value, MessageState.NEEDS_HUMAN.value, MessageState.SNOOZED.value)
BATCH_KINDS = (
    DecisionKind.APPROVE_TICKET,
    DecisionKind.REJECT,
    DecisionKind.SNOOZE,
    DecisionKind.DISMISS_SPAM,
    DecisionKind.SOLVE_TICKET,
    DecisionKind.REOPEN_TICKET,
)


def approve_ticket(
    key: int,
    *,
    actor: str,
    config: Config,
    category: str | None = None,
    urgency: str | None = None,
    now: float | datetime | None = None,
    shown_category: str | None = None,
) -> Ticket:
    """Create the ticket of the message's conversation, or link to the one it already has.

    Approving as suggested with `shown_category` (what the screen showed) refuses when the stored
    suggestion has changed since (the worker upgraded it): the person approves what they saw.
    """
    return _approve(key, actor, config, category, urgency, _epoch(now), shown_category)[1]


def reject(key: int, *, actor: str, reason: str, config: Config, now=None) -> Decision:
    """Refuse the suggestion: no ticket; the reason is required unless the config says otherwise."""
    reason = _reason(reason, config)
    return _close(key, actor, config, DecisionKind.REJECT, _epoch(now), reason=reason)


def snooze(key: int, *, actor: str, until: datetime, config: Config, now=None) -> Decision:
    """Hide the conversation until `until` (or until its customer writes); it comes back after that."""
    at = _epoch(now)
    until_epoch = _until(until, at)
    return _close(key, actor, config, DecisionKind.SNOOZE, at, until=until_epoch)


def dismiss_spam(key: int, *, actor: str, config: Config, now=None) -> Decision:
    """Dismiss the conversation as spam (a training label for the spam category)."""
    return _close(key, actor, config, DecisionKind.DISMISS_SPAM, _epoch(now))


def solve_ticket(key: int, *, actor: str, config: Config, reason: str = "", now=None) -> Ticket:
    """Solve the ticket of the message's conversation; the customer writing again reopens it."""
    return _ticket_step(key, actor, config, tickets.solve, _epoch(now), reason)


def reopen_ticket(key: int, *, actor: str, config: Config, reason: str = "", now=None) -> Ticket:
    """Reopen the pending or solved ticket of the message's conversation."""
    return _ticket_step(key, actor, config, tickets.reopen, _epoch(now), reason)


def decide_batch(
    keys: list[int],
    kind: DecisionKind,
    *,
    actor: str,
    config: Config,
    reason: str = "",
    category: str | None = None,
    urgency: str | None = None,
    until: datetime | None = None,
    now=None,
) -> list[Decision]:
    """The same decision on many messages' conversations (one transaction each); checked before writing."""
    kind = DecisionKind(kind)
    if kind not in BATCH_KINDS:
        raise DecisionError(f"{kind.value} cannot be decided in a batch")
    at = _epoch(now)
    keys = list(dict.fromkeys(keys))
    if kind is DecisionKind.REJECT:
        reason = _reason(reason, config)
    if kind is DecisionKind.SNOOZE:
        if until is None:
            raise DecisionError("a snooze needs an until time")
        until_epoch = _until(until, at)
    if kind is DecisionKind.APPROVE_TICKET:
        _check_choice(category, config.classifier.categories, "category")
        _check_choice(urgency, config.classifier.urgencies, "urgency")
    found = {k for (k,) in MessageRow.select(MessageRow.id).where(MessageRow.id.in_(keys)).tuples()}
    missing = [k for k in keys if k not in found]
    if missing:
        raise DecisionError(f"{len(missing)} marked message(s) no longer exist: {missing[:5]}")
    decisions = []
    for key in keys:
        if kind is DecisionKind.APPROVE_TICKET:
            decisions.append(_approve(key, actor, config, category, urgency, at)[0])
        elif kind is DecisionKind.SNOOZE:
            decisions.append(_close(key, actor, config, kind, at, until=until_epoch))
        elif kind in (DecisionKind.SOLVE_TICKET, DecisionKind.REOPEN_TICKET):
            step = tickets.solve if kind is DecisionKind.SOLVE_TICKET else tickets.reopen
            decisions.append(_ticket_decision(key, actor, config, step, at, reason))
        else:
            decisions.append(_close(key, actor, config, kind, at, reason=reason))
    return decisions


def decisions_for(grant_id: str, message_id: str) -> list[Decision]:
    """Every decision recorded about one message, oldest first."""
    query = (
        DecisionRow.select()
        .where(DecisionRow.grant_id == grant_id, DecisionRow.message_id == message_id)
        .order_by(DecisionRow.decided_at, DecisionRow.id)
    )
    return [to_decision(row) for row in query]


def _approve(key, actor, config, category, urgency, at, shown_category=None) -> tuple[Decision, Ticket]:
    actor = _actor(actor)
    _check_choice(category, config.classifier.categories, "category")
    _check_choice(urgency, config.classifier.urgencies, "urgency")
    with write_transaction():
        row = _message(key, config)
        conversation = conversations.of_message(row, at)
        if (category is None and shown_category is not None and not conversation.ticket_id
                and row.category != shown_category):
            raise DecisionError(f"the suggestion changed from {shown_category or 'none'} to {row.category or 'none'} "
                                f"since it was shown: look again, then approve")
        final_category = category or row.category
        if not final_category:
            raise DecisionError("choose a category before approving the ticket")
        final_urgency = urgency or row.urgency or "normal"
        detail = {
            "suggested_category": row.category,
            "suggested_urgency": row.urgency,
            "edited": final_category != row.category or final_urgency != row.urgency,
        }
        decision, change = tickets.approve(conversation, row, actor=actor, category=final_category,
                                           urgency=final_urgency, at=at, detail=detail)
        tracker_events.ticket_created(config, change, row, category=final_category, urgency=final_urgency)
    return decision, to_ticket(TicketRow.get(TicketRow.ticket_id == change.ticket_id))


def _close(key, actor, config, kind: DecisionKind, at: float, *, reason: str = "",
           until: float | None = None) -> Decision:
    """Reject, snooze or dismiss: the conversation leaves the open queue (a snooze only for a while)."""
    actor = _actor(actor)
    with write_transaction():
        row = _message(key, config)
        conversation = conversations.of_message(row, at)
        if conversation.ticket_id and kind is not DecisionKind.SNOOZE:
            raise DecisionError(f"this conversation is ticket {conversation.ticket_id}: solve it instead")
        snoozing = kind is DecisionKind.SNOOZE
        state = MessageState.SNOOZED if snoozing else MessageState.DISMISSED
        category = SPAM_CATEGORY if kind is DecisionKind.DISMISS_SPAM else ""
        decision = write_decision(row, kind, actor, at, category=category, reason=reason,
                                  snooze_until=until, ticket_id=conversation.ticket_id)
        waiting = (MessageRow.conversation_id == conversation.id) & (MessageRow.kind == MailKind.CUSTOMER.value) \
            & MessageRow.state.in_(_WAITING)
        MessageRow.update(state=state.value, snooze_until=until, updated_at=at).where(
            waiting | ((MessageRow.id == row.id) & (MessageRow.state != MessageState.TICKET.value))).execute()
        if category:
            MessageRow.update(category=category).where(MessageRow.id == row.id).execute()
        conversations.set_state(conversation.id, ConversationState.SNOOZED if snoozing else ConversationState.DISMISSED,
                                at, snooze_until=until)
        if not snoozing:
            conversations.answered(conversation.id, at, at)
        detail = {"previous_state": conversation.state, "reason": reason}
        if until is not None:
            detail["snooze_until"] = from_epoch(until).isoformat()
        _audit(row, f"decision.{kind.value}", decision, at, detail)
    return decision


def _ticket_step(key, actor, config, step, at: float, reason: str) -> Ticket:
    change_ticket = _ticket_decision(key, actor, config, step, at, reason).ticket_id
    return to_ticket(TicketRow.get(TicketRow.ticket_id == change_ticket))


def _ticket_decision(key, actor, config, step, at: float, reason: str) -> Decision:
    actor = _actor(actor)
    with write_transaction():
        row = _message(key, config)
        conversation = conversations.of_message(row, at)
        change = step(conversation, row, actor=actor, at=at, reason=db_safe(reason or "").strip())
        tracker_events.status_changed(config, change, db_safe(reason or "").strip())
    return to_decision(DecisionRow.get(DecisionRow.decision_id == change.decision_id))


def _message(key: int, config: Config) -> MessageRow:
    row = MessageRow.get_or_none(MessageRow.id == key)
    if row is None:
        raise DecisionError(f"message {key} no longer exists")
    if config.inboxes and row.grant_id not in config.grant_ids:
        raise DecisionError(f"message {key} belongs to grant {row.grant_id}, which is not configured")
    return row


def _reason(reason: str, config: Config) -> str:
    cleaned = db_safe(reason or "").strip()
    if config.outbound.reject_reason_required and not cleaned:
        raise DecisionError("a rejection needs a reason")
    return cleaned


def _until(until: datetime, at: float) -> float:
    if not isinstance(until, datetime):
        raise DecisionError("snooze until must be a date and time")
    until_epoch = to_epoch(until)
    if until_epoch <= at:
        raise DecisionError("snooze until must be in the future")
    return until_epoch


def _check_choice(value: str | None, allowed: list[str], what: str) -> None:
    if value is not None and value not in allowed:
        raise DecisionError(f"unknown {what} '{value}'; use one of: {', '.join(allowed)}")


def _actor(actor: str) -> str:
    cleaned = db_safe(actor or "").strip()
    if not cleaned:
        raise DecisionError("a decision needs the name of the person making it")
    return cleaned


def _epoch(now: float | datetime | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        return to_epoch(now)
    return float(now)
