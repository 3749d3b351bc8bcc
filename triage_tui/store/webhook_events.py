"""The durable webhook inbox: stored before the 200, drained by the worker."""

from __future__ import annotations

import time
from dataclasses import dataclass

from peewee import fn

from triage_tui.store.db import is_sqlite, write_transaction
from triage_tui.store.models import WebhookEventRow
from triage_tui.store.text import db_safe

PENDING = "pending"
PROCESSING = "processing"
DONE = "done"
GONE = "gone"
IGNORED = "ignored"
UNPARSEABLE = "unparseable"
QUARANTINED = "quarantined"


@dataclass(frozen=True)
class PendingEvent:
    """A stored notification waiting for the worker."""

    row_id: int
    event_id: str
    grant_id: str
    message_id: str
    trigger: str
    received_at: float
    attempts: int


def record_event(event_id: str, *, grant_id: str, message_id: str, trigger: str, raw: bytes,
                 status: str = PENDING, error: str = "", received_at: float | None = None) -> bool:
    """Insert one notification (ON CONFLICT DO NOTHING) and commit; True when it was new."""
    with write_transaction():
        cursor = (
            WebhookEventRow.insert(
                event_id=db_safe(event_id)[:255], grant_id=db_safe(grant_id)[:255],
                message_id=db_safe(message_id)[:255], trigger=db_safe(trigger)[:255],
                received_at=time.time() if received_at is None else received_at,
                raw=bytes(raw), status=status, error=db_safe(error)[:2000],
            )
            .on_conflict_ignore()
            .returning(WebhookEventRow.id)
            .execute()
        )
        return bool(list(cursor))


def record_events(events: list[dict], *, received_at: float | None = None) -> list[bool]:
    """Insert many notifications in one transaction (group commit); True for each one that was new.

    Each dict has event_id, grant_id, message_id, trigger and raw; a repeat within the list is not new.
    """
    if not events:
        return []
    now = time.time() if received_at is None else received_at
    rows, firsts = {}, []
    for event in events:
        event_id = db_safe(event["event_id"])[:255]
        firsts.append(event_id not in rows)
        rows.setdefault(event_id, dict(
            event_id=event_id, grant_id=db_safe(event["grant_id"])[:255],
            message_id=db_safe(event["message_id"])[:255], trigger=db_safe(event["trigger"])[:255],
            received_at=now, raw=bytes(event["raw"]), status=PENDING, error="",
        ))
    with write_transaction():
        inserted = {
            event_id
            for (event_id,) in WebhookEventRow.insert_many(list(rows.values()))
            .on_conflict_ignore()
            .returning(WebhookEventRow.event_id)
            .tuples()
            .execute()
        }
    return [first and db_safe(e["event_id"])[:255] in inserted for e, first in zip(events, firsts)]


def event_row_id(event_id: str) -> int | None:
    """The row id of a stored notification, or None."""
    row = WebhookEventRow.get_or_none(WebhookEventRow.event_id == event_id)
    return row.id if row else None


def claim_events(limit: int = 200, *, lease_s: float = 120.0, now: float | None = None) -> list[PendingEvent]:
    """Take up to `limit` pending events (or ones whose claim expired) so no other worker drains them."""
    now = time.time() if now is None else now
    ready = (WebhookEventRow.status == PENDING) | (
        (WebhookEventRow.status == PROCESSING) & (WebhookEventRow.processed_at < now - lease_s)
    )
    with write_transaction():
        query = (
            WebhookEventRow.select(
                WebhookEventRow.id, WebhookEventRow.event_id, WebhookEventRow.grant_id,
                WebhookEventRow.message_id, WebhookEventRow.trigger, WebhookEventRow.received_at,
                WebhookEventRow.attempts,
            )
            .where(ready)
            .order_by(WebhookEventRow.id)
            .limit(limit)
        )
        if not is_sqlite():
            query = query.for_update(skip_locked=True)
        events = [
            PendingEvent(r.id, r.event_id, r.grant_id, r.message_id, r.trigger, r.received_at, r.attempts)
            for r in query
        ]
        if events:
            WebhookEventRow.update(status=PROCESSING, processed_at=now).where(
                WebhookEventRow.id.in_([e.row_id for e in events])
            ).execute()
    return events


def release_events(row_ids: list[int]) -> None:
    """Give claimed events back (the drain stopped early), so the next cycle takes them again."""
    if not row_ids:
        return
    with write_transaction():
        WebhookEventRow.update(status=PENDING).where(
            WebhookEventRow.id.in_(row_ids) & (WebhookEventRow.status == PROCESSING)
        ).execute()


def pending_count() -> int:
    """How many notifications wait for the worker."""
    return WebhookEventRow.select().where(WebhookEventRow.status.in_([PENDING, PROCESSING])).count()


def mark_events(row_ids: list[int], status: str, *, error: str = "", now: float | None = None) -> None:
    """Set the final status of drained notifications."""
    if not row_ids:
        return
    now = time.time() if now is None else now
    with write_transaction():
        for start in range(0, len(row_ids), 500):
            WebhookEventRow.update(status=status, error=db_safe(error)[:2000], processed_at=now).where(
                WebhookEventRow.id.in_(row_ids[start : start + 500])
                & WebhookEventRow.status.in_([PENDING, PROCESSING])
            ).execute()


def record_event_failure(row_id: int, error: str) -> int:
    """Count one failed attempt with its reason; returns the attempts so far."""
    with write_transaction():
        WebhookEventRow.update(
            attempts=WebhookEventRow.attempts + 1, error=db_safe(error)[:2000], status=PENDING,
        ).where(WebhookEventRow.id == row_id).execute()
        return WebhookEventRow.get_by_id(row_id).attempts


def event_counts() -> dict[str, int]:
    """How many notifications are in each status."""
    query = WebhookEventRow.select(WebhookEventRow.status, fn.COUNT(WebhookEventRow.id).alias("n")).group_by(
        WebhookEventRow.status
    )
    return {row.status: row.n for row in query}


def event_bodies(row_ids: list[int]) -> dict[int, bytes]:
    """The stored raw bodies of these notifications, by row id."""
    out: dict[int, bytes] = {}
    for start in range(0, len(row_ids), 500):
        query = WebhookEventRow.select(WebhookEventRow.id, WebhookEventRow.raw).where(
            WebhookEventRow.id.in_(row_ids[start:start + 500]))
        out.update({row_id: bytes(raw) for row_id, raw in query.tuples()})
    return out
