"""The stop switch row: who turned it on, when, why, and until when."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from triage_tui.domain import AuditEvent, StopSwitch
from triage_tui.store.audit import record_audit
from triage_tui.store.db import is_sqlite, write_transaction
from triage_tui.store.models import ControlRow, database
from triage_tui.store.text import db_safe, from_epoch, to_epoch
from triage_tui.store.transient import retrying

STOP_SWITCH = "stop_switch"
# Holds tracker writes only; customer mail is held by STOP_SWITCH alone, and neither holds the other.
TRACKER_PAUSE = "tracker_pause"
# The flip waits at most this long for the row lock (a claim holds it for milliseconds), then tries again.
FLIP_LOCK_TIMEOUT_MS = 1000


def read_stop_switch(now: float | None = None, *, key: str = STOP_SWITCH) -> StopSwitch:
    """The stop switch (or another control row, by key) as it stands; an expired pause reads as off."""
    row = ControlRow.get_or_none(ControlRow.key == key)
    if row is None or not row.on:
        return StopSwitch(on=False)
    now = time.time() if now is None else now
    if row.until is not None and row.until <= now:
        return StopSwitch(on=False)
    return StopSwitch(
        on=True,
        actor=row.actor,
        reason=row.reason,
        since=from_epoch(row.since),
        until=from_epoch(row.until),
    )


def stop_switch_version(*, key: str = STOP_SWITCH) -> int:
    """A counter that changes on every flip, for cheap change detection."""
    row = ControlRow.get_or_none(ControlRow.key == key)
    return row.version if row else 0


def set_stop_switch(
    on: bool,
    *,
    actor: str,
    reason: str = "",
    until: datetime | None = None,
    tenant_id: str = "",
    environment: str = "",
    detail: dict | None = None,
    key: str = STOP_SWITCH,
) -> StopSwitch:
    """Flip the switch (or the control row `key`) and its audit row in one short transaction; pausing deletes nothing.

    The transaction touches only the control row and one audit row, so it never waits behind
    ingest; on PostgreSQL it waits for the row lock (held by a claim for milliseconds) at most
    FLIP_LOCK_TIMEOUT_MS, and the shared retry path runs it again after a deadlock, a lock
    timeout or a lost connection.
    """
    if on and not reason.strip():
        raise ValueError(f"a reason is required to turn the {key.replace('_', ' ')} on")
    return retrying(_flip, on, actor=actor, reason=reason, until=until, tenant_id=tenant_id,
                    environment=environment, detail=detail, key=key)


def _flip(on: bool, *, actor: str, reason: str, until: datetime | None, tenant_id: str, environment: str,
          detail: dict | None, key: str) -> StopSwitch:
    now = time.time()
    values = dict(
        on=on,
        actor=db_safe(actor),
        reason=db_safe(reason),
        since=now if on else None,
        until=to_epoch(until) if on else None,
        updated_at=now,
    )
    with write_transaction():
        if not is_sqlite():
            database.execute_sql(f"SET LOCAL lock_timeout = '{FLIP_LOCK_TIMEOUT_MS}ms'")
        # The UPDATE comes before the audit row: the audit ids of sends and flips then follow the
        # order in which they held the control row (invariant 4 is checked on that order).
        changed = ControlRow.update(version=ControlRow.version + 1, **values).where(
            ControlRow.key == key).execute()
        if not changed:
            ControlRow.insert(key=key, version=1, **values).on_conflict(
                conflict_target=[ControlRow.key],
                update={**{getattr(ControlRow, k): v for k, v in values.items()},
                        ControlRow.version: ControlRow.version + 1},
            ).execute()
        record_audit(
            AuditEvent(
                action=f"{key}.on" if on else f"{key}.off",
                actor=actor,
                at=datetime.fromtimestamp(now, tz=timezone.utc),
                tenant_id=tenant_id,
                environment=environment,
                detail={"reason": reason, "until": until.isoformat() if until else None, **(detail or {})},
            )
        )
    return read_stop_switch(now, key=key)
