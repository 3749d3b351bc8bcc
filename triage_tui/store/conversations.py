"""Conversations: one hot row per (grant, thread), written in the transaction that changes its mail.

Ingest, decisions and ticket transitions call these inside their own write transaction:
`ensure` creates (and on PostgreSQL locks) the rows, `derive` recomputes what follows from the
stored messages (counts, the latest customer message, the SLA start, the sort time) with a few
set-based statements, and the callers set `state` for the events they handle. `rebuild` groups
messages that have no conversation yet (the schema migration, bulk loads).
"""

from __future__ import annotations

import math

from peewee import Database

from triage_tui.domain import ConversationState, MailKind, MessageState, QueueItem
from triage_tui.store.db import is_sqlite
from triage_tui.store.models import ConversationRow, MessageRow, database
from triage_tui.store.text import dumps, from_epoch, loads

CUSTOMER = MailKind.CUSTOMER.value
# Waiting on us: the open queue shows these (and snoozes whose time has come).
QUEUE_STATES = (ConversationState.NEW, ConversationState.NEEDS_HUMAN, ConversationState.OPEN)
UNTRIAGED = (ConversationState.NEW.value, ConversationState.NEEDS_HUMAN.value)
# Kinds of automated mail a conversation's flags mention (our own replies are expected, not news).
FLAGGED_KINDS = (MailKind.BOUNCE.value, MailKind.AUTO_REPLY.value, MailKind.LOOP_SUSPECTED.value,
                 MailKind.MAILING_LIST.value)
CHUNK = 400


def conversation_key(thread_id: str, message_id: str) -> str:
    """The thread a message belongs to; mail without a thread id is a conversation of its own."""
    return thread_id or message_id


def ensure(tenant_id: str, environment: str, grant_id: str, keys: list[str],
           now: float) -> dict[str, ConversationRow]:
    """The conversation rows of these thread keys, created when missing and locked on PostgreSQL."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    for start in range(0, len(wanted), CHUNK):
        ConversationRow.insert_many([
            dict(tenant_id=tenant_id, environment=environment, grant_id=grant_id, thread_id=key,
                 created_at=now, updated_at=now, latest_at=now, sort_at=now)
            for key in wanted[start:start + CHUNK]
        ]).on_conflict_ignore().execute()
    found: dict[str, ConversationRow] = {}
    for start in range(0, len(wanted), CHUNK):
        query = ConversationRow.select().where(
            (ConversationRow.grant_id == grant_id) & ConversationRow.thread_id.in_(wanted[start:start + CHUNK])
        ).order_by(ConversationRow.id)
        if not is_sqlite():
            query = query.for_update()
        found.update({row.thread_id: row for row in query})
    return found


def of_message(row: MessageRow, now: float) -> ConversationRow:
    """The (locked) conversation of a stored message; attached and derived when it had none."""
    if row.conversation_id is not None:
        query = ConversationRow.select().where(ConversationRow.id == row.conversation_id)
        if not is_sqlite():
            query = query.for_update()
        found = query.first()
        if found is not None:
            return found
    key = conversation_key(row.thread_id, row.message_id)
    conversation = ensure(row.tenant_id, row.environment, row.grant_id, [key], now)[key]
    fresh = conversation.message_count == 0
    MessageRow.update(conversation_id=conversation.id).where(
        (MessageRow.grant_id == row.grant_id) & (MessageRow.conversation_id.is_null())
        & ((MessageRow.thread_id == key) | ((MessageRow.thread_id == "") & (MessageRow.message_id == key)))
    ).execute()
    row.conversation_id = conversation.id
    if fresh:
        initial_states([conversation.id], now)
    derive([conversation.id], now)
    return ConversationRow.get_by_id(conversation.id)


def conversation_item(row: ConversationRow, lease_holder: str = "") -> QueueItem:
    """A conversation row as the queue shows it."""
    return QueueItem(
        key=row.id, grant_id=row.grant_id, message_id=row.message_id, thread_id=row.thread_id,
        subject=row.subject, sender=row.sender_email or row.sender_name,
        received_at=from_epoch(row.last_customer_at or row.latest_at), state=row.state, category=row.category,
        urgency=row.urgency, confidence=row.confidence, flags=[str(f) for f in loads(row.flags, [])], ticket_id=row.ticket_id,
        lease_holder=lease_holder, sort_rank=row.urgency_rank, sort_received_at=row.sort_at, conversation=True,
        message_key=row.message_key or 0, conversation_key=row.id, message_count=row.message_count,
        ticket_status=row.ticket_status, sla_started_at=from_epoch(row.sla_started_at),
    )


def get(conversation_id: int) -> ConversationRow | None:
    """One conversation row."""
    return ConversationRow.get_or_none(ConversationRow.id == conversation_id)


def set_state(conversation_id: int, state: ConversationState | str, now: float, **values) -> None:
    """Move a conversation to a state (clearing a snooze unless one is given)."""
    values.setdefault("snooze_until", None)
    ConversationRow.update(state=str(state), updated_at=now, **values).where(
        ConversationRow.id == conversation_id).execute()


def answered(conversation_id: int, at: float, now: float) -> None:
    """Customer mail received before the second of `at` no longer waits on us (a reply went out, or a
    decision closed it).

    Mail times are whole seconds (the API's `date`), so a customer message from the same second as
    our reply may be newer than it: it is kept waiting rather than taken as answered.
    """
    at = float(math.floor(at))
    row = ConversationRow.get_by_id(conversation_id)
    if row.answered_at is None or at > row.answered_at:
        ConversationRow.update(answered_at=at, updated_at=now).where(ConversationRow.id == conversation_id).execute()
    derive([conversation_id], now)


def remove_empty(ids: list[int]) -> None:
    """Drop conversations that ended up with no message (created for a copy that was absorbed)."""
    if ids:
        ConversationRow.delete().where(ConversationRow.id.in_(ids) & (ConversationRow.message_count == 0)).execute()


# ----- derived columns, set-based ---------------------------------------------------------------


def _db() -> Database:
    return database.obj


def _run(sql: str, params: list, ids: list[int] | None) -> None:
    """Run `sql ... WHERE <ids>` over the conversations given (None: every conversation)."""
    db = _db()
    if ids is None:
        db.execute_sql(sql.replace("{where}", "1 = 1"), params)
        return
    unique = sorted(set(ids))
    for start in range(0, len(unique), CHUNK):
        part = unique[start:start + CHUNK]
        marks = ", ".join([db.param] * len(part))
        db.execute_sql(sql.replace("{where}", f'"id" IN ({marks})'), [*params, *part])


def _greatest(a: str, b: str) -> str:
    """The larger of two nullable SQL values (NULL only when both are), on both engines."""
    return f"(CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} >= {b} THEN {a} ELSE {b} END)"


_MSGS = 'FROM "messages" m WHERE m."conversation_id" = "conversations"."id"'
_CUSTOMER = f"{_MSGS} AND m.\"kind\" = '{CUSTOMER}'"
_OWN_MAX = f"(SELECT MAX(m.\"received_at\") {_MSGS} AND m.\"kind\" = '{MailKind.OWN_OUTBOUND.value}')"
_RANK = ("(CASE t.\"urgency\" WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'low' THEN 3 ELSE 2 END)")


def derive(ids: list[int] | None, now: float) -> None:
    """Recompute counts, the latest customer message and its display columns, SLA start and sort time.

    Two statements, one write per row each (the right-hand sides see the row as it was).
    """
    if ids is not None and not ids:
        return
    p = _db().param
    answered = _greatest('"answered_at"', _OWN_MAX)
    sla = f'(SELECT MIN(m."received_at") {_CUSTOMER} AND ({answered} IS NULL OR m."received_at" >= {answered}))'
    last_customer = f'(SELECT MAX(m."received_at") {_CUSTOMER})'
    latest = f'COALESCE((SELECT MAX(m."received_at") {_MSGS}), "latest_at")'
    _run(f"""UPDATE "conversations" SET
        "message_count" = (SELECT COUNT(*) {_MSGS}),
        "customer_count" = (SELECT COUNT(*) {_CUSTOMER}),
        "latest_at" = {latest},
        "last_customer_at" = {last_customer},
        "answered_at" = {answered},
        "message_key" = COALESCE(
            (SELECT m."id" {_CUSTOMER} ORDER BY m."received_at" DESC, m."id" DESC LIMIT 1),
            (SELECT m."id" {_MSGS} ORDER BY m."received_at" DESC, m."id" DESC LIMIT 1)),
        "sla_started_at" = {sla},
        "sort_at" = COALESCE({sla}, {last_customer}, {latest}),
        "updated_at" = {p}
        WHERE {{where}}""", [now], ids)
    # What the queue shows: the latest customer message, with the ticket's category and urgency if any.
    _run(f"""UPDATE "conversations" SET ("message_id", "subject", "sender_email", "sender_name", "category",
        "urgency", "urgency_rank", "confidence", "flags") = (SELECT m."message_id", m."subject",
        m."sender_email", m."sender_name", COALESCE(t."category", m."category"), COALESCE(t."urgency", m."urgency"),
        CASE WHEN t."ticket_id" IS NULL THEN m."urgency_rank" ELSE {_RANK} END, m."confidence", m."flags"
        FROM "messages" m LEFT JOIN "tickets" t ON t."ticket_id" = "conversations"."ticket_id"
        WHERE m."id" = "conversations"."message_key")
        WHERE "message_key" IS NOT NULL AND {{where}}""", [], ids)
    _add_kind_flags(ids)


def _add_kind_flags(ids: list[int] | None) -> None:
    """Mention the automated mail a conversation holds (a bounce of our reply above all) in its flags."""
    query = (MessageRow.select(MessageRow.conversation_id, MessageRow.kind)
             .where(MessageRow.kind.in_(FLAGGED_KINDS) & MessageRow.conversation_id.is_null(False))
             .group_by(MessageRow.conversation_id, MessageRow.kind))
    kinds: dict[int, set[str]] = {}
    parts = [None] if ids is None else [sorted(set(ids))[i:i + CHUNK] for i in range(0, len(set(ids)), CHUNK)]
    for part in parts:
        scoped = query if part is None else query.where(MessageRow.conversation_id.in_(part))
        for conversation_id, kind in scoped.tuples():
            kinds.setdefault(conversation_id, set()).add(kind)
    wanted = sorted(kinds)
    for start in range(0, len(wanted), CHUNK):
        rows = ConversationRow.select(ConversationRow.id, ConversationRow.flags).where(
            ConversationRow.id.in_(wanted[start:start + CHUNK]))
        for conversation_id, stored in rows.tuples():
            flags = [str(f) for f in loads(stored, [])]
            merged = flags + sorted(k for k in kinds[conversation_id] if k not in flags)
            if merged != flags:
                ConversationRow.update(flags=dumps(merged)).where(ConversationRow.id == conversation_id).execute()


def adopt_tickets(ids: list[int] | None) -> None:
    """Give conversations without a ticket the one their thread already has (made before conversations)."""
    _run("""UPDATE "conversations" SET ("ticket_id", "ticket_status", "state") = (SELECT t."ticket_id",
        t."status", t."status" FROM "tickets" t WHERE t."grant_id" = "conversations"."grant_id"
        AND t."thread_id" = "conversations"."thread_id")
        WHERE "ticket_id" = '' AND EXISTS (SELECT 1 FROM "tickets" t WHERE t."grant_id" = "conversations"."grant_id"
        AND t."thread_id" = "conversations"."thread_id") AND {where}""", [], ids)


def initial_states(ids: list[int] | None, now: float) -> None:
    """The state of conversations that had none yet, from their mail (and a ticket made before)."""
    p = _db().param
    adopt_tickets(ids)
    derive(ids, now)
    latest = 'FROM "messages" m WHERE m."id" = "conversations"."message_key"'
    untriaged = (f"(SELECT CASE WHEN m.\"state\" IN ('{MessageState.NEEDS_HUMAN.value}', "
                 f"'{MessageState.SNOOZED.value}', '{MessageState.DISMISSED.value}') THEN m.\"state\" "
                 f"ELSE '{ConversationState.NEW.value}' END {latest})")
    quarantined = (f"EXISTS (SELECT 1 {_MSGS} AND m.\"kind\" = '{MailKind.QUARANTINED.value}')")
    _run(f"""UPDATE "conversations" SET "state" = CASE
        WHEN "ticket_status" != '' THEN "ticket_status"
        WHEN "customer_count" = 0 AND {quarantined} THEN '{ConversationState.QUARANTINED.value}'
        WHEN "customer_count" = 0 THEN '{ConversationState.AUTOMATED.value}'
        ELSE COALESCE({untriaged}, '{ConversationState.NEW.value}') END,
        "snooze_until" = (SELECT m."snooze_until" {latest} AND m."state" = '{MessageState.SNOOZED.value}'),
        "updated_at" = {p}
        WHERE {{where}}""", [now], ids)


def rebuild(now: float) -> int:
    """Group every message without a conversation into one per (grant, thread); returns how many were made."""
    before = ConversationRow.select().count()
    if not is_sqlite():
        _db().execute_sql('ANALYZE "messages"')  # fresh statistics, or the per-thread lookups may scan
    key_sql = 'CASE WHEN "thread_id" = \'\' THEN "message_id" ELSE "thread_id" END'
    p = _db().param
    newest = _db().execute_sql('SELECT MAX("id") FROM "conversations"').fetchone()[0] or 0
    _db().execute_sql(f"""INSERT INTO "conversations" ("tenant_id", "environment", "grant_id", "thread_id",
        "state", "ticket_id", "ticket_status", "message_id", "subject", "sender_email", "sender_name", "category",
        "urgency", "urgency_rank", "confidence", "flags", "message_count", "customer_count", "latest_at",
        "sort_at", "created_at", "updated_at")
        SELECT MIN("tenant_id"), MIN("environment"), "grant_id", {key_sql}, 'new', '', '', '', '', '', '', '',
        'normal', 2, 0, '[]', 0, 0, MAX("received_at"), MAX("received_at"), MIN("created_at"), {p}
        FROM "messages" WHERE "conversation_id" IS NULL GROUP BY "grant_id", {key_sql}
        ON CONFLICT DO NOTHING""", [now])
    _db().execute_sql(f"""UPDATE "messages" SET "conversation_id" = c."id" FROM "conversations" c
        WHERE c."grant_id" = "messages"."grant_id" AND c."thread_id" = {key_sql.replace('"thread_id"',
        '"messages"."thread_id"').replace('"message_id"', '"messages"."message_id"')}
        AND "messages"."conversation_id" IS NULL""")
    ids = None if newest == 0 else [
        i for (i,) in ConversationRow.select(ConversationRow.id).where(ConversationRow.id > newest).tuples()]
    initial_states(ids, now)
    return ConversationRow.select().count() - before
