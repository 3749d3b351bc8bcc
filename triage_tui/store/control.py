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


def read_stop_switch(now: float | None = None) -> StopSwitch:
    """The stop switch as it stands; an expired pause reads as off."""
    row = ControlRow.get_or_none(ControlRow.key == STOP_SWITCH)
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


def stop_switch_version() -> int:
    """A counter that changes on every flip, for cheap change detection."""
    row = ControlRow.get_or_none(ControlRow.key == STOP_SWITCH)
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
) -> StopSwitch:
    """Flip the switch and write its audit row in one transaction; pausing deletes nothing."""
    if on and not reason.strip():
        raise ValueError("a reason is required to turn the stop switch on")
    now = time.time()
    with write_transaction():
        row = ControlRow.get_or_none(ControlRow.key == STOP_SWITCH)
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
            ControlRow.create(key=STOP_SWITCH, **values)
        else:
            ControlRow.update(**values).where(ControlRow.key == STOP_SWITCH).execute()
        record_audit(
            AuditEvent(
                action="stop_switch.on" if on else "stop_switch.off",
                actor=actor,
                at=datetime.fromtimestamp(now, tz=timezone.utc),
                tenant_id=tenant_id,
                environment=environment,
                detail={"reason": reason, "until": until.isoformat() if until else None, **(detail or {})},
            )
        )
    return read_stop_switch(now)
