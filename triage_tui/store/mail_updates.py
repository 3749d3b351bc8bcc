"""message.updated applied to a stored message: folders, unread, starred, and Junk/Trash out of the queue.

Ordering: each message keeps `mail_version`, the signed `time` of the newest update applied. An
update with an older time changes nothing; one with the same time but a different state is
ambiguous (two changes in one second, delivered out of order), and the caller re-reads the message
from the API and applies that with `fetched=True`. Every applied change leaves one audit row.
"""

from __future__ import annotations

from datetime import datetime, timezone

from triage_tui.domain import AuditEvent, ConversationState, MailKind, MailUpdate
from triage_tui.store import conversations
from triage_tui.store.audit import record_audit
from triage_tui.store.db import is_sqlite, write_transaction
from triage_tui.store.messages import InboxScope
from triage_tui.store.models import ConversationRow, MessageRow
from triage_tui.store.text import dumps, loads

APPLIED, UNCHANGED, STALE, MISSING, AMBIGUOUS = "applied", "unchanged", "stale", "missing", "ambiguous"
# Folder ids or names (lowercase) that take a message out of the queue.
TRASH_FOLDERS = frozenset({"trash", "deleted", "deleted items", "bin"})
JUNK_FOLDERS = frozenset({"junk", "spam", "junk email", "bulk mail"})
HIDDEN_STATES = (ConversationState.JUNK.value, ConversationState.TRASH.value)


def hidden_folder(folder_ids) -> str:
    """"trash", "junk" or "" for a message in these folders (Trash wins over Junk)."""
    names = {str(f).strip().lower() for f in folder_ids}
    if names & TRASH_FOLDERS:
        return "trash"
    return "junk" if names & JUNK_FOLDERS else ""


def apply_mail_update(scope: InboxScope, update: MailUpdate, version: float, *, fetched: bool = False,
                      event_id: str = "", trigger: str = "message.updated", received_at: float | None = None,
                      actor: str = "worker", now: float) -> str:
    """Apply one update if it is not older than what is stored; returns what happened (see module doc)."""
    with write_transaction():
        query = MessageRow.select().where(
            (MessageRow.grant_id == scope.grant_id) & (MessageRow.message_id == update.message_id))
        row = (query if is_sqlite() else query.for_update()).first()
        if row is None:
            return MISSING
        changes = _changes(row, update)
        if version < row.mail_version or (version == row.mail_version and not fetched and not changes):
            return STALE if version < row.mail_version else UNCHANGED
        if version == row.mail_version and not fetched:
            return AMBIGUOUS
        values = {"mail_version": version, **{k: new for k, (_old, new) in changes.items()}}
        if "folder_ids" in values:
            values["folder_ids"] = dumps(list(values["folder_ids"]))
        MessageRow.update(updated_at=now, **values).where(MessageRow.id == row.id).execute()
        if not changes:
            return UNCHANGED
        record_audit(AuditEvent(
            action="message.updated", actor=actor, at=datetime.fromtimestamp(now, tz=timezone.utc),
            tenant_id=scope.tenant_id, environment=scope.environment,
            agent_account_email=scope.agent_account_email, grant_id=scope.grant_id,
            workspace_id=scope.workspace_id, policy_id=scope.policy_id, message_id=row.message_id,
            thread_id=row.thread_id, ticket_id=row.ticket_id, event_id=event_id[:255],
            dedupe_key=f"{scope.grant_id}:{row.message_id}", webhook_trigger=trigger[:255],
            webhook_received_at=datetime.fromtimestamp(received_at, tz=timezone.utc) if received_at else None,
            detail={"changes": {k: [_json(o), _json(n)] for k, (o, n) in changes.items()},
                    "version": version, "fetched": fetched},
        ))
        if "hidden_in" in changes:
            row.hidden_in = values["hidden_in"]
            _requeue(row, now)
    return APPLIED


def _changes(row: MessageRow, update: MailUpdate) -> dict[str, tuple]:
    changes: dict[str, tuple] = {}
    if update.folder_ids is not None:
        stored = tuple(str(f) for f in loads(row.folder_ids, []) or [])
        if stored != update.folder_ids:
            changes["folder_ids"] = (stored, update.folder_ids)
        hidden = hidden_folder(update.folder_ids)
        if hidden != row.hidden_in:
            changes["hidden_in"] = (row.hidden_in, hidden)
    for flag in ("unread", "starred"):
        new = getattr(update, flag)
        if new is not None and bool(getattr(row, flag)) != new:
            changes[flag] = (bool(getattr(row, flag)), new)
    return changes


def _json(value):
    return list(value) if isinstance(value, tuple) else value


def _requeue(row: MessageRow, now: float) -> None:
    """A move to or from Junk/Trash: the conversation leaves the queue when no customer mail is left, or returns."""
    conversation = conversations.of_message(row, now)
    conversations.derive([conversation.id], now)
    conversation = ConversationRow.get_by_id(conversation.id)
    if row.kind != MailKind.CUSTOMER.value:
        return
    if row.hidden_in and conversation.customer_count == 0 and conversation.state not in HIDDEN_STATES:
        conversations.set_state(conversation.id, row.hidden_in, now, snooze_until=conversation.snooze_until)
    elif not row.hidden_in and conversation.state in HIDDEN_STATES:
        conversations.initial_states([conversation.id], now)
