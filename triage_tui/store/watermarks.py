"""How far the poller has safely ingested each grant."""

from __future__ import annotations

import time
from dataclasses import dataclass

from triage_tui.store.db import write_transaction
from triage_tui.store.models import Meta, WatermarkRow
from triage_tui.store.text import db_safe, dumps, loads


@dataclass(frozen=True)
class Watermark:
    """A grant's watermark: everything received up to `received_after` is stored."""

    grant_id: str
    received_after: int = 0
    last_sync_at: float | None = None
    last_error: str = ""


def read_watermark(grant_id: str) -> Watermark:
    """The grant's watermark (zero when it never synced)."""
    row = WatermarkRow.get_or_none(WatermarkRow.grant_id == grant_id)
    if row is None:
        return Watermark(grant_id)
    return Watermark(grant_id, int(row.received_after), row.last_sync_at, row.last_error)


def all_watermarks() -> list[Watermark]:
    """Every grant's watermark."""
    return [
        Watermark(r.grant_id, int(r.received_after), r.last_sync_at, r.last_error)
        for r in WatermarkRow.select().order_by(WatermarkRow.grant_id)
    ]


def advance_watermark(grant_id: str, received_after: int | None, *, now: float | None = None) -> None:
    """Record a successful sync; the watermark only ever moves forward."""
    now = time.time() if now is None else now
    with write_transaction():
        row = WatermarkRow.get_or_none(WatermarkRow.grant_id == grant_id)
        if row is None:
            WatermarkRow.insert(grant_id=grant_id, received_after=int(received_after or 0),
                                last_sync_at=now, last_error="").on_conflict_ignore().execute()
            return
        value = max(int(row.received_after), int(received_after or 0))
        WatermarkRow.update(received_after=value, last_sync_at=now, last_error="").where(
            WatermarkRow.grant_id == grant_id
        ).execute()


def record_sync_error(grant_id: str, error: str) -> None:
    """Keep the last sync error of a grant for `status` and the console."""
    with write_transaction():
        inserted = WatermarkRow.insert(grant_id=grant_id, last_error=db_safe(error)[:2000]).on_conflict_ignore()
        inserted.execute()
        WatermarkRow.update(last_error=db_safe(error)[:2000]).where(WatermarkRow.grant_id == grant_id).execute()


SWEEP_KEY = "poll.sweep."


def load_sweep(grant_id: str) -> dict | None:
    """The saved progress of an unfinished poll sweep (survives a crash), or None."""
    row = Meta.get_or_none(Meta.key == SWEEP_KEY + grant_id)
    return loads(row.value, None) if row else None


def save_sweep(grant_id: str, state: dict) -> None:
    """Remember how far a sweep got, after the pages it covered were committed."""
    with write_transaction():
        value = dumps(state)
        Meta.insert(key=SWEEP_KEY + grant_id, value=value).on_conflict(
            conflict_target=[Meta.key], update={Meta.value: value}
        ).execute()


def clear_sweep(grant_id: str) -> None:
    """Forget a finished (or abandoned) sweep."""
    with write_transaction():
        Meta.delete().where(Meta.key == SWEEP_KEY + grant_id).execute()
