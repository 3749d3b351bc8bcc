"""The stop switch row: who turned it on, when, why, and until when."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from triage_tui.domain import AuditEvent, StopSwitch
from triage_tui.store.audit import record_audit
from triage_tui.store.db import write_transaction
from triage_tui.store.models import ControlRow
from triage_tui.store.text import db_safe, from_epoch, to_epoch

STOP_SWITCH = "stop_switch"
# Holds tracker writes only; customer mail is held by STOP_SWITCH alone, and neither holds the other.
TRACKER_PAUSE = "tracker_pause"


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
    """Flip the switch (or the control row `key`) and write its audit row in one transaction; pausing deletes nothing."""
    if on and not reason.strip():
        raise ValueError(f"a reason is required to turn the {key.replace('_', ' ')} on")
    now = time.time()
    with write_transaction():
        row = ControlRow.get_or_none(ControlRow.key == key)
        version = (row.version if row else 0) + 1
        values = dict(
            on=on,
            actor=db_safe(actor),
            reason=db_safe(reason),
            since=now if on else None,
            until=to_epoch(until) if on else None,
            version=version,
            updated_at=now,
        )
        if row is None:
            ControlRow.create(key=key, **values)
        else:
            ControlRow.update(**values).where(ControlRow.key == key).execute()
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
