"""The thread view's data: one message with its body, signals, suggestion and whole thread."""

from __future__ import annotations

from typing import Any

from triage_tui.domain import (
    Address,
    Attachment,
    Header,
    InboundMessage,
    MailSignals,
    MessageDetail,
    QueueItem,
    Suggestion,
)
from triage_tui.store.conversations import conversation_item
from triage_tui.store.models import ConversationRow, MessageBody, MessageRow, SuggestionRow
from triage_tui.store.leases import lease_holders
from triage_tui.store.queue import state_of
from triage_tui.store.text import from_epoch, loads

# MessageRow.flags names that map onto MailSignals fields.
_FLAG_SIGNALS = {
    "auto_reply": "auto_reply",
    "bounce": "bounce",
    "list": "mailing_list",
    "mailing_list": "mailing_list",
    "own_outbound": "own_outbound",
    "loop_suspected": "loop_suspected",
    "reply_to_differs": "reply_to_differs",
}
THREAD_LIMIT = 200
KIND_NOTES = {
    "own_outbound": "our own mail",
    "auto_reply": "auto-reply: it never moves or reopens the ticket",
    "bounce": "bounce: a delivery failure report",
    "mailing_list": "list mail: it never moves or reopens the ticket",
    "loop_suspected": "mail loop suspected: it never moves or reopens the ticket",
    "quarantined": "quarantined: it could not be read",
}


def message_detail(key: int, *, now: float | None = None) -> MessageDetail | None:
    """The message behind a key with its whole conversation (oldest first), or None when it is gone."""
    row = MessageRow.get_or_none(MessageRow.id == key)
    if row is None:
        return None
    bodies = _bodies([row.id])
    message = to_inbound(row, bodies.get(row.id))
    rows = _conversation_rows(row)
    thread_bodies = _bodies([r.id for r in rows])
    suggestion_row = SuggestionRow.get_or_none(SuggestionRow.message == row.id)
    conversation = ConversationRow.get_or_none(ConversationRow.id == row.conversation_id) \
        if row.conversation_id is not None else None
    holders = lease_holders([row.id], now=now)
    return MessageDetail(
        item=_item_of(row, holders.get(row.id, "")),
        message=message,
        signals=signals_of(row, bodies.get(row.id)),
        suggestion=_suggestion(suggestion_row),
        thread=[to_inbound(r, thread_bodies.get(r.id)) for r in rows],
        last_error=row.last_error or "",
        conversation=conversation_item(conversation, holders.get(row.id, "")) if conversation else None,
        notes=_notes(rows),
    )


def thread_messages(grant_id: str, thread_id: str, *, fallback=None) -> list[InboundMessage]:
    """Every stored message of a thread with its body, oldest first (the newest THREAD_LIMIT)."""
    if not thread_id:
        return [to_inbound(*fallback)] if fallback else []
    rows = _newest(MessageRow.grant_id == grant_id, MessageRow.thread_id == thread_id)
    bodies = _bodies([r.id for r in rows])
    return [to_inbound(r, bodies.get(r.id)) for r in rows]


def _newest(*where) -> list[MessageRow]:
    rows = list(MessageRow.select().where(*where)
                .order_by(MessageRow.received_at.desc(), MessageRow.id.desc()).limit(THREAD_LIMIT))
    rows.reverse()
    return rows


def _conversation_rows(row: MessageRow) -> list[MessageRow]:
    """The conversation's messages oldest first, each bounce placed right under the reply it reports on."""
    if row.conversation_id is not None:
        rows = _newest(MessageRow.conversation_id == row.conversation_id)
    elif row.thread_id:
        rows = _newest(MessageRow.grant_id == row.grant_id, MessageRow.thread_id == row.thread_id)
    else:
        rows = [row]
    present = {r.message_id for r in rows}
    attached: dict[str, list[MessageRow]] = {}
    for r in rows:
        if r.bounce_of and r.bounce_of in present and r.bounce_of != r.message_id:
            attached.setdefault(r.bounce_of, []).append(r)
    ordered: list[MessageRow] = []
    for r in rows:
        if r.bounce_of in present and r.bounce_of != r.message_id:
            continue
        ordered.append(r)
        ordered.extend(attached.get(r.message_id, []))
    return ordered


def _notes(rows: list[MessageRow]) -> dict[str, str]:
    notes = {}
    when = {r.message_id: r.received_at for r in rows}
    for r in rows:
        if r.bounce_of:
            at = when.get(r.bounce_of)
            sent = f" of {from_epoch(at):%Y-%m-%d %H:%M} UTC" if at is not None else ""
            notes[r.message_id] = f"↳ bounce of our reply{sent} above: the customer did not get it"
        elif r.kind in KIND_NOTES:
            notes[r.message_id] = KIND_NOTES[r.kind]
    return notes


def to_inbound(row: MessageRow, body: MessageBody | None) -> InboundMessage:
    """A stored message (hot row + cold body) as the domain type."""
    return InboundMessage(
        grant_id=row.grant_id,
        message_id=row.message_id,
        thread_id=row.thread_id,
        subject=row.subject,
        sender=Address(email=row.sender_email, name=row.sender_name),
        to=_addresses(body.to_addrs if body else None),
        cc=_addresses(body.cc_addrs if body else None),
        reply_to=_addresses(body.reply_to if body else None),
        received_at=from_epoch(row.received_at),
        snippet=body.snippet if body else "",
        body_text=body.body_text if body else "",
        body_html=body.body_html if body else "",
        folder_ids=_strings(row.folder_ids),
        label_ids=_strings(row.label_ids),
        headers=[h for h in (_header(v) for v in _json_list(body.headers if body else None)) if h],
        attachments=[a for a in (_attachment(v) for v in _json_list(body.attachments if body else None)) if a],
        internet_message_id=body.internet_message_id if body else "",
        in_reply_to=body.in_reply_to if body else "",
        references=_strings(body.references if body else None),
        hidden_characters=_strings(body.hidden_characters if body else None),
        truncated=bool(body.truncated) if body else False,
    )


def signals_of(row: MessageRow, body: MessageBody | None) -> MailSignals:
    """The stored signals; falls back to the row's flags when the body has none."""
    stored = _json(body.signals if body else None, {})
    if isinstance(stored, dict) and stored:
        known = {k: v for k, v in stored.items() if k in MailSignals.model_fields}
        try:
            return MailSignals.model_validate(known)
        except ValueError:
            pass
    flags = _strings(row.flags)
    values: dict[str, Any] = {_FLAG_SIGNALS[f]: True for f in flags if f in _FLAG_SIGNALS}
    if body is not None:
        values["hidden_characters"] = _strings(body.hidden_characters)
    return MailSignals(**values, reasons=flags)


def _item_of(row: MessageRow, lease_holder: str) -> QueueItem:
    return QueueItem(
        key=row.id,
        grant_id=row.grant_id,
        message_id=row.message_id,
        thread_id=row.thread_id,
        subject=row.subject,
        sender=row.sender_email or row.sender_name,
        received_at=from_epoch(row.received_at),
        state=state_of(row.state),
        category=row.category,
        urgency=row.urgency,
        confidence=row.confidence,
        flags=_strings(row.flags),
        ticket_id=row.ticket_id,
        lease_holder=lease_holder,
        sort_rank=row.urgency_rank,
        sort_received_at=row.received_at,
        message_key=row.id,
        conversation_key=row.conversation_id,
    )


def _suggestion(row: SuggestionRow | None) -> Suggestion | None:
    if row is None:
        return None
    return Suggestion(
        category=row.category,
        urgency=row.urgency,
        confidence=min(1.0, max(0.0, row.confidence)),
        reasons=_strings(row.reasons),
        classification_version=row.classification_version,
        needs_human=bool(row.needs_human),
    )


def _bodies(keys: list[int]) -> dict[int, MessageBody]:
    if not keys:
        return {}
    return {b.message_id: b for b in MessageBody.select().where(MessageBody.message.in_(keys))}


def _json(value: str | None, default: Any) -> Any:
    try:
        return loads(value, default)
    except ValueError:
        return default


def _json_list(value: str | None) -> list:
    parsed = _json(value, [])
    return parsed if isinstance(parsed, list) else []


def _strings(value: str | None) -> list[str]:
    return [str(v) for v in _json_list(value) if v is not None]


def _addresses(value: str | None) -> list[Address]:
    found = []
    for entry in _json_list(value):
        if isinstance(entry, dict) and entry.get("email") is not None:
            found.append(Address(email=str(entry["email"]), name=str(entry.get("name") or "")))
        elif isinstance(entry, str):
            found.append(Address(email=entry))
    return found


def _header(entry: Any) -> Header | None:
    if isinstance(entry, dict) and "name" in entry:
        return Header(name=str(entry["name"]), value=str(entry.get("value") or ""))
    if isinstance(entry, (list, tuple)) and len(entry) == 2:
        return Header(name=str(entry[0]), value=str(entry[1]))
    return None


def _attachment(entry: Any) -> Attachment | None:
    if not isinstance(entry, dict):
        return None
    known = {k: v for k, v in entry.items() if k in Attachment.model_fields and v is not None}
    try:
        return Attachment.model_validate(known)
    except ValueError:
        return None
