"""Which ticket changes become tracker writes: called inside the transaction that makes the change.

Approval creates the tracker item; a customer's message on a ticketed conversation and each reply we
sent become comments; solving and reopening are synced. Automated mail (auto-replies, bounces, our own
outbound) never reaches these functions. The tracker, project, assignee and labels come from the config
alone (`tracker_writes`), never from the message.
"""

from __future__ import annotations

from triage_tui.config import Config
from triage_tui.domain import Address, MailKind, TicketFacts, TrackerStatus
from triage_tui.store.models import MessageBody, MessageRow, OutboxRow
from triage_tui.store.text import from_epoch
from triage_tui.store.tickets import TicketChange
from triage_tui.store.tracker_writes import enqueue_comment, enqueue_create, enqueue_status

CUT_CHARS = 40_000  # the adapters quote at most 20,000; the rest never needs to be stored twice


def _text(message: MessageRow) -> str:
    body = MessageBody.get_or_none(MessageBody.message == message.id)
    text = (body.body_text or body.snippet) if body is not None else ""
    return text[:CUT_CHARS]


def _sender(message: MessageRow) -> Address:
    return Address(email=message.sender_email, name=message.sender_name or "")


def ticket_created(config: Config, change: TicketChange, message: MessageRow, *, category: str,
                   urgency: str) -> str | None:
    """An approval made a new ticket: queue its tracker item (a link only, for `local`)."""
    if change.transition != "create":
        return None
    inbox = config.inbox(change.grant_id)
    facts = TicketFacts(
        ticket_id=change.ticket_id, grant_id=change.grant_id, thread_id=change.thread_id,
        message_id=message.message_id, subject=message.subject, customer_text=_text(message), sender=_sender(message),
        category=category, urgency=urgency, received_at=from_epoch(message.received_at),
        inbox_email=inbox.email if inbox is not None else "")
    return enqueue_create(config, facts, actor=change.actor, decision_id=change.decision_id, now=change.at)


def customer_wrote(config: Config, message: MessageRow, *, now: float,
                   change: TicketChange | None = None) -> list[str]:
    """A customer's message joined a ticketed conversation: a comment, and `reopened` if it was solved."""
    if message.kind != MailKind.CUSTOMER.value or not message.ticket_id:
        return []
    queued = enqueue_comment(config, ticket_id=message.ticket_id, source_id=message.message_id, author="customer",
                             text=_text(message), sender=_sender(message), at=from_epoch(message.received_at),
                             message_id=message.message_id, actor="ingest", now=now)
    if change is not None and change.status_before == "solved" and change.status_after == "open":
        queued += enqueue_status(config, ticket_id=change.ticket_id, status=TrackerStatus.REOPENED,
                                 source_id=change.command_result_id, actor=change.actor,
                                 reason="the customer wrote again", decision_id=change.decision_id, now=now)
    return queued


def reply_went_out(config: Config, change: TicketChange | None, row: OutboxRow, *, now: float) -> list[str]:
    """A reply we sent on a ticketed conversation: a comment written by the agent."""
    if change is None:
        return []
    return enqueue_comment(config, ticket_id=change.ticket_id, source_id=row.command_result_id, author="agent",
                           text=row.body[:CUT_CHARS], at=from_epoch(row.sent_at or now),
                           message_id=row.sent_message_id, actor=change.actor, decision_id=row.decision_id, now=now)


def status_changed(config: Config, change: TicketChange, reason: str = "") -> list[str]:
    """A person solved or reopened the ticket: sync the status."""
    status = {"solved": TrackerStatus.SOLVED, "open": TrackerStatus.REOPENED}.get(change.status_after)
    if status is None or not change.changed or (status is TrackerStatus.REOPENED and change.status_before != "solved"):
        return []  # pending is ours alone: the tracker item stayed open
    return enqueue_status(config, ticket_id=change.ticket_id, status=status, source_id=change.command_result_id,
                          actor=change.actor, reason=reason, decision_id=change.decision_id, now=change.at)


def customers_wrote(config: Config, keys: list[int], changes: list[TicketChange], now: float) -> list[str]:
    """Newly stored messages (row ids) on ticketed conversations: `customer_wrote` for each customer's one."""
    by_message = {change.message_id: change for change in changes}
    queued: list[str] = []
    if keys:
        for message in MessageRow.select().where(MessageRow.id.in_(keys)).order_by(MessageRow.received_at,
                                                                                    MessageRow.id):
            queued += customer_wrote(config, message, now=now, change=by_message.get(message.message_id))
    return queued
