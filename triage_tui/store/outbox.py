"""The outbox repository: approved sends in, domain OutboxEntry values out."""

from __future__ import annotations

from typing import Iterable

from triage_tui.domain import Address, Header, InboundMessage, OutboxEntry, OutboxState
from triage_tui.store.models import ConversationRow, MessageBody, MessageRow, OutboxRow, ThreadRow
from triage_tui.store.text import from_epoch, loads

# States the dispatcher will still pick up (after the stop switch is off and any wait is over).
WAITING_STATES = (OutboxState.PENDING, OutboxState.CLAIMED, OutboxState.SENDING, OutboxState.RETRY)
# States a person has to look at: nothing more happens to them automatically.
FAILURE_STATES = (
    OutboxState.FAILED,
    OutboxState.REFUSED,
    OutboxState.EXPIRED,
    OutboxState.NEEDS_RECONCILIATION,
)


def addresses_from_json(value: str) -> list[Address]:
    """Addresses stored as JSON ([{email, name}] or ["email"])."""
    out = []
    for item in loads(value, []) or []:
        if isinstance(item, dict) and item.get("email"):
            out.append(Address(email=str(item["email"]), name=str(item.get("name") or "")))
        elif isinstance(item, str) and item:
            out.append(Address(email=item))
    return out


def to_entry(row: OutboxRow) -> OutboxEntry:
    """An outbox row as the domain type."""
    return OutboxEntry(
        command_result_id=row.command_result_id,
        kind=row.kind,
        decision_id=row.decision_id,
        tenant_id=row.tenant_id,
        environment=row.environment,
        grant_id=row.grant_id,
        reply_to_message_id=row.reply_to_message_id,
        thread_id=row.thread_id,
        ticket_id=row.ticket_id,
        to=addresses_from_json(row.to_addrs),
        cc=addresses_from_json(row.cc_addrs),
        subject=row.subject,
        body=row.body,
        content_hash=row.content_hash,
        state=OutboxState(row.state),
        approved_by=row.approved_by,
        approved_at=from_epoch(row.approved_at),
        expires_at=from_epoch(row.expires_at),
        attempts=row.attempts,
        first_attempt_at=from_epoch(row.first_attempt_at),
        sent_at=from_epoch(row.sent_at),
        sent_message_id=row.sent_message_id,
        last_error=row.last_error,
        not_before=from_epoch(row.lease_expires_at) if row.state == OutboxState.RETRY else None,
    )


def get_entry(command_result_id: str) -> OutboxEntry | None:
    """One entry by its command_result_id (the Idempotency-Key)."""
    row = OutboxRow.get_or_none(OutboxRow.command_result_id == command_result_id)
    return to_entry(row) if row else None


def count_waiting() -> int:
    """Entries that will go when the switch is off (pending, claimed, sending or retry)."""
    return OutboxRow.select().where(OutboxRow.state.in_([s.value for s in WAITING_STATES])).count()


def count_by_state() -> dict[str, int]:
    """How many entries sit in each state (for `status`)."""
    from peewee import fn

    query = OutboxRow.select(OutboxRow.state, fn.COUNT(OutboxRow.id).alias("n")).group_by(OutboxRow.state)
    return {row.state: row.n for row in query}


def list_entries(states: Iterable[str] | None = None, limit: int = 100) -> list[OutboxEntry]:
    """The newest entries first, optionally only in the given states."""
    query = OutboxRow.select().order_by(OutboxRow.created_at.desc(), OutboxRow.id.desc()).limit(limit)
    if states is not None:
        query = query.where(OutboxRow.state.in_([str(s) for s in states]))
    return [to_entry(row) for row in query]


def _is_failure():
    return OutboxRow.state.in_([s.value for s in FAILURE_STATES]) | (
        (OutboxRow.state == OutboxState.RETRY.value) & (OutboxRow.last_error != "")
    )


def failures(limit: int = 50) -> list[OutboxEntry]:
    """Send failures, refusals, expiries and needs-reconciliation, newest first, for the console."""
    query = (
        OutboxRow.select()
        .where(_is_failure())
        .order_by(OutboxRow.updated_at.desc(), OutboxRow.id.desc())
        .limit(limit)
    )
    return [to_entry(row) for row in query]


def failure_summary() -> tuple[int, str]:
    """How many sends failed or need a human, and one line about the newest."""
    count = OutboxRow.select().where(_is_failure()).count()
    if not count:
        return 0, ""
    newest = failures(limit=1)[0]
    return count, f"{newest.state}: {newest.subject[:60]} ({newest.last_error[:120] or 'no detail'})"


def load_original(grant_id: str, message_id: str) -> tuple[InboundMessage, str] | None:
    """The stored inbound message a reply answers, and the ticket id its conversation has (or "")."""
    row = MessageRow.get_or_none((MessageRow.grant_id == grant_id) & (MessageRow.message_id == message_id))
    if row is None:
        return None
    body = MessageBody.get_or_none(MessageBody.message == row.id)
    headers = []
    reply_to: list[Address] = []
    if body is not None:
        for item in loads(body.headers, []) or []:
            if isinstance(item, dict) and "name" in item:
                headers.append(Header(name=str(item["name"]), value=str(item.get("value") or "")))
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                headers.append(Header(name=str(item[0]), value=str(item[1])))
        reply_to = addresses_from_json(body.reply_to)
    message = InboundMessage(
        grant_id=row.grant_id,
        message_id=row.message_id,
        thread_id=row.thread_id,
        subject=row.subject,
        sender=Address(email=row.sender_email, name=row.sender_name),
        reply_to=reply_to,
        received_at=from_epoch(row.received_at),
        body_text=body.body_text if body else "",
        headers=headers,
        internet_message_id=body.internet_message_id if body else "",
    )
    ticket_id = row.ticket_id
    if not ticket_id and row.conversation_id is not None:
        conversation = ConversationRow.get_or_none(ConversationRow.id == row.conversation_id)
        ticket_id = conversation.ticket_id if conversation else ""
    if not ticket_id and row.thread_id:
        thread = ThreadRow.get_or_none((ThreadRow.grant_id == grant_id) & (ThreadRow.thread_id == row.thread_id))
        ticket_id = thread.ticket_id if thread else ""
    return message, ticket_id
