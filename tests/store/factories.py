"""Fast, deterministic message rows for store tests: bulk inserts straight through peewee."""

from __future__ import annotations

import io
import json
import random
from typing import Any

from triage_tui.store.db import is_sqlite, write_transaction
from triage_tui.store.models import MessageBody, MessageRow, SuggestionRow
from triage_tui.store.queue import urgency_rank

BASE_TIME = 1_780_000_000.0  # a fixed clock (2026-05-28) so every run sees the same data
CATEGORIES = ["billing", "bug", "account_access", "feature_request", "spam", "other"]
URGENCIES = ["critical", "high", "normal", "low"]
SENDERS = ["ana@acme.com", "bo@example.org", "cy@globex.net", "di@acme.co.uk", "ed@initech.io"]
BATCH = 400


def message_values(index: int, rng: random.Random, **overrides: Any) -> dict[str, Any]:
    """The columns of one message row; `overrides` wins over the generated values."""
    urgency = overrides.pop("urgency", None) or rng.choice(URGENCIES)
    received_at = overrides.pop("received_at", None)
    if received_at is None:
        received_at = BASE_TIME + index * 7 + rng.randint(0, 5)
    grant_id = overrides.pop("grant_id", "grant-1")
    values = dict(
        tenant_id="tenant-1",
        environment="test",
        agent_account_email="support@agent.example",
        grant_id=grant_id,
        workspace_id="ws-1",
        policy_id="pol-1",
        rule_ids='["rule-1"]',
        message_id=f"msg-{index:07d}",
        thread_id=f"thr-{index:07d}",
        dedupe_key=f"{grant_id}:msg-{index:07d}",
        subject=f"Message {index} about {rng.choice(['invoice', 'login', 'crash', 'idea'])}",
        sender_email=rng.choice(SENDERS),
        sender_name=f"Sender {index % 97}",
        received_at=received_at,
        state="new",
        category=rng.choice(CATEGORIES),
        urgency=urgency,
        urgency_rank=urgency_rank(urgency),
        confidence=round(rng.random(), 3),
        flags="[]",
        classification_version="rules-v1",
        created_at=received_at + 1,
        updated_at=received_at + 1,
    )
    values.update(overrides)
    if values["state"] == "quarantined" and "kind" not in overrides:
        values["kind"] = "quarantined"
    if "urgency_rank" not in overrides:
        values["urgency_rank"] = urgency_rank(values["urgency"])
    return values


def make_messages(
    count: int,
    *,
    start: int = 0,
    seed: int = 7,
    bodies: bool = False,
    suggestions: bool = False,
    per_thread: int = 1,
    **overrides: Any,
) -> list[int]:
    """Insert `count` messages (bulk, in one transaction) and return their keys in insert order.

    With `per_thread` > 1, runs of that many consecutive messages share a thread.
    """
    rng = random.Random(seed + start)
    rows = [message_values(start + i, rng, **dict(overrides)) for i in range(count)]
    if per_thread > 1 and "thread_id" not in overrides:
        for i, row in enumerate(rows):
            row["thread_id"] = f"thr-{(start + i) // per_thread:07d}"
    bulk_insert(MessageRow, rows)
    keys = [
        key
        for (key,) in MessageRow.select(MessageRow.id)
        .where(MessageRow.message_id.in_([r["message_id"] for r in rows]))
        .order_by(MessageRow.id)
        .tuples()
    ] if count <= 5000 else _keys_after_bulk(count)
    if bodies:
        add_bodies(keys)
    if suggestions:
        add_suggestions(keys)
    return keys


def group_conversations(now: float = BASE_TIME) -> int:
    """Group the messages made so far into conversations, as the schema migration does."""
    from triage_tui.store.conversations import rebuild

    with write_transaction():
        return rebuild(now)


def make_message(**overrides: Any) -> int:
    """Insert one message and return its key."""
    index = MessageRow.select().count() + 1_000_000
    values = message_values(index, random.Random(index), **overrides)
    return MessageRow.insert(values).execute()


def add_bodies(keys: list[int], **overrides: Any) -> None:
    """Give each message a cold body row."""
    rows = []
    for key in keys:
        body = dict(
            message=key,
            body_text=f"Hello, this is the body of message {key}.\n> quoted earlier text",
            snippet=f"Hello, this is the body of message {key}.",
            headers=json.dumps([{"name": "Subject", "value": f"Message {key}"}]),
            to_addrs=json.dumps([{"email": "support@agent.example", "name": "Support"}]),
            reply_to="[]",
            attachments="[]",
            signals="{}",
        )
        body.update(overrides)
        rows.append(body)
    bulk_insert(MessageBody, rows)


def add_suggestions(keys: list[int], **overrides: Any) -> None:
    """Give each message the suggestion its row already names."""
    found = MessageRow.select(
        MessageRow.id, MessageRow.category, MessageRow.urgency, MessageRow.confidence
    ).where(MessageRow.id.in_(keys))
    rows = []
    for key, category, urgency, confidence in found.tuples():
        suggestion = dict(
            message=key,
            category=category,
            urgency=urgency,
            confidence=confidence,
            reasons=json.dumps([f"keyword matched for {category}"]),
            classification_version="rules-v1",
            created_at=BASE_TIME,
        )
        suggestion.update(overrides)
        rows.append(suggestion)
    bulk_insert(SuggestionRow, rows)


def bulk_insert(model, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in one transaction: executemany on SQLite (fast), batched insert elsewhere."""
    if not rows:
        return
    fields = {f.name: f for f in model._meta.sorted_fields}
    defaults = {
        name: field.default
        for name, field in fields.items()
        if field.default is not None and not callable(field.default)
    }
    names = list({**defaults, **rows[0]})
    columns = ", ".join(f'"{fields[name].column_name}"' for name in names)
    values = [tuple({**defaults, **row}[name] for name in names) for row in rows]
    table = model._meta.table_name
    with write_transaction() as transaction:
        cursor = transaction.db.cursor()
        if is_sqlite():
            marks = ", ".join("?" for _ in names)
            cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', values)
        else:
            text = "".join(",".join(_csv_field(v) for v in row) + "\n" for row in values)
            cursor.copy_expert(f'COPY "{table}" ({columns}) FROM STDIN WITH (FORMAT csv)', io.StringIO(text))


def _csv_field(value: Any) -> str:
    """One PostgreSQL CSV field: NULL unquoted and empty, text always quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace('"', '""') + '"'


def _keys_after_bulk(count: int) -> list[int]:
    """The newest `count` keys, for bulk loads too big for an IN list."""
    query = MessageRow.select(MessageRow.id).order_by(MessageRow.id.desc()).limit(count)
    return sorted(key for (key,) in query.tuples())
