"""Outbox state changes under the lock: claim with a lease and fencing token, start, finish, reap."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

from peewee import fn

from triage_tui.config import Config
from triage_tui.domain import AuditEvent, OutboxState
from triage_tui.outbound.policy import check_limits
from triage_tui.store.audit import record_audit
from triage_tui.store.control import STOP_SWITCH, read_stop_switch
from triage_tui.store.db import is_sqlite, write_transaction
from triage_tui.store.models import ControlRow, OutboxRow
from triage_tui.store.tickets import reply_sent
from triage_tui.store.text import db_safe
from triage_tui.store.transient import retrying, until_committed

CLAIMABLE_SCAN = 25


@dataclass(frozen=True)
class Claim:
    """A row this owner holds, and the fencing token every later write must present."""

    row: OutboxRow
    owner: str
    token: int


def audit(row: OutboxRow, action: str, actor: str, now: float, **detail) -> None:
    """One audit row about an outbox entry (inside the caller's transaction)."""
    record_audit(AuditEvent(
        action=action, actor=actor, at=datetime.fromtimestamp(now, tz=timezone.utc),
        tenant_id=row.tenant_id, environment=row.environment, grant_id=row.grant_id,
        message_id=row.reply_to_message_id, thread_id=row.thread_id, ticket_id=row.ticket_id,
        decision_id=row.decision_id, command_result_id=row.command_result_id,
        detail={"attempt": row.attempts, "fencing_token": row.fencing_token, **detail},
    ))


def switch_is_on(now: float) -> bool:
    """Read the stop switch inside the current transaction, locking its row on PostgreSQL."""
    if not is_sqlite():
        # The flip is an UPDATE of this row, so it waits for us and we wait for it.
        rows = list(ControlRow.select().where(ControlRow.key == STOP_SWITCH).for_update("FOR UPDATE"))
        if not rows:
            ControlRow.insert(key=STOP_SWITCH, on=False, updated_at=now).on_conflict_ignore().execute()
    return read_stop_switch(now).on


def _set(row: OutboxRow, now: float, **values) -> None:
    for key, value in values.items():
        setattr(row, key, value)
    OutboxRow.update(updated_at=now, **values).where(OutboxRow.id == row.id).execute()


def _fenced(claim: Claim, states: tuple[str, ...], now: float, **values) -> bool:
    """Update only while this owner still holds this token; False means we were superseded."""
    query = OutboxRow.update(updated_at=now, **values).where(
        (OutboxRow.id == claim.row.id)
        & (OutboxRow.lease_owner == claim.owner)
        & (OutboxRow.fencing_token == claim.token)
        & OutboxRow.state.in_(states)
    )
    changed = query.execute() == 1
    if changed:
        for key, value in values.items():
            setattr(claim.row, key, value)
    return changed


def _candidates(now: float):
    query = (
        OutboxRow.select()
        .where((OutboxRow.state == OutboxState.PENDING.value)
               | ((OutboxRow.state == OutboxState.RETRY.value) & (OutboxRow.lease_expires_at <= now)))
        .order_by(OutboxRow.created_at, OutboxRow.id)
        .limit(CLAIMABLE_SCAN)
    )
    return query if is_sqlite() else query.for_update("FOR UPDATE SKIP LOCKED")


def claim_next(config: Config, owner: str, now: float) -> tuple[Claim | None, bool]:
    """Claim one sendable entry; returns (claim or None, switch_on). Stop switch read under the lock."""
    return retrying(_claim_next, config, owner, now)


def _claim_next(config: Config, owner: str, now: float) -> tuple[Claim | None, bool]:
    outbound = config.outbound
    with write_transaction():
        if switch_is_on(now):
            return None, True
        for row in _candidates(now):
            if row.expires_at is not None and row.expires_at <= now:
                _set(row, now, state=OutboxState.EXPIRED.value, lease_owner="",
                     last_error="the approval expired before it could be sent")
                audit(row, "outbox.expired", owner, now)
                continue
            if row.first_attempt_at is not None and now - row.first_attempt_at >= outbound.reconcile_after_s:
                _set(row, now, state=OutboxState.NEEDS_RECONCILIATION.value, lease_owner="",
                     last_error="no known outcome past the idempotency window; check the thread before resending")
                audit(row, "outbox.needs_reconciliation", owner, now)
                continue
            verdict = check_limits(row, config, now)
            if not verdict.ok:
                if verdict.permanent:
                    _set(row, now, state=OutboxState.REFUSED.value, lease_owner="", last_error=verdict.reason)
                    audit(row, "outbox.refused", owner, now, reason=verdict.reason)
                else:
                    _set(row, now, state=OutboxState.RETRY.value, lease_owner="",
                         lease_expires_at=verdict.retry_at, last_error=verdict.reason)
                    audit(row, "outbox.deferred", owner, now, reason=verdict.reason, until=verdict.retry_at)
                continue
            token = row.fencing_token + 1
            _set(row, now, state=OutboxState.CLAIMED.value, lease_owner=db_safe(owner),
                 lease_expires_at=now + outbound.lease_s, fencing_token=token, attempts=row.attempts + 1)
            return Claim(row=row, owner=row.lease_owner, token=token), False
    return None, False


def begin_send(claim: Claim, now: float, lease_s: float) -> str:
    """Re-read the switch under the lock and mark the send started: "started", "held" or "stale"."""
    return retrying(_begin_send, claim, now, lease_s)


def _begin_send(claim: Claim, now: float, lease_s: float) -> str:
    with write_transaction():
        if switch_is_on(now):
            held = _fenced(claim, (OutboxState.CLAIMED.value,), now, state=OutboxState.RETRY.value,
                           lease_owner="", lease_expires_at=now)
            if held:
                audit(claim.row, "outbox.held", claim.owner, now, reason="stop switch on")
            return "held" if held else "stale"
        first = claim.row.first_attempt_at if claim.row.first_attempt_at is not None else now
        started = _fenced(claim, (OutboxState.CLAIMED.value,), now, state=OutboxState.SENDING.value,
                          first_attempt_at=first, lease_expires_at=now + lease_s)
        if not started:
            return "stale"
        # Commit order of this row is the proof that no send starts after the switch is flipped.
        audit(claim.row, "outbox.send_started", claim.owner, now)
    return "started"


def finish(claim: Claim, now: float, action: str, *, from_states: tuple[str, ...] = ("sending",),
           detail: dict | None = None, **values) -> bool:
    """Record an outcome with the fencing check and its audit row; False when superseded.

    A reply recorded as sent answers its conversation and moves an open ticket to pending, in the
    same transaction (`tickets.reply_sent`).
    """
    return retrying(_finish, claim, now, action, from_states, detail, values)


def _finish(claim: Claim, now: float, action: str, from_states: tuple[str, ...], detail: dict | None,
            values: dict) -> bool:
    with write_transaction():
        done = _fenced(claim, from_states, now, **values)
        audit(claim.row, action if done else "outbox.stale_result", claim.owner, now,
              **({"outcome": action} if not done else {}), **(detail or {}))
        if done and values.get("state") == OutboxState.SENT.value:
            reply_sent(claim.row.grant_id, claim.row.reply_to_message_id, at=now, actor=claim.owner,
                       sent_message_id=claim.row.sent_message_id,
                       reply_command_result_id=claim.row.command_result_id)
    return done


def record_done(claim: Claim, action: str, clock, *, detail: dict | None = None, **values) -> bool:
    """Record a side effect that certainly happened; retried until it commits. False: already recorded.

    The fact wins over the lease: even when our lease ran out while the store was unreachable and
    another owner took the entry back, the entry becomes done (the other owner's attempt replays
    with the same Idempotency-Key and its result is recorded as stale). Tracker writes use this too.
    """
    return until_committed(_record_done, claim, action, clock, detail, values)


def _record_done(claim: Claim, action: str, clock, detail: dict | None, values: dict) -> bool:
    now = clock()
    done_state = values["state"]
    with write_transaction():
        query = OutboxRow.select().where(OutboxRow.id == claim.row.id)
        row = (query if is_sqlite() else query.for_update()).first()
        if row is None or row.state == done_state:
            audit(claim.row, "outbox.stale_result", claim.owner, now, outcome=action, **(detail or {}))
            return False
        taken_over = row.lease_owner != claim.owner or row.fencing_token != claim.token
        _set(row, now, **values)
        for key, value in values.items():
            setattr(claim.row, key, value)
        extra = {"after_takeover_by": row.lease_owner or row.state} if taken_over else {}
        audit(claim.row, action, claim.owner, now, **extra, **(detail or {}))
        if done_state == OutboxState.SENT.value:
            reply_sent(claim.row.grant_id, claim.row.reply_to_message_id, at=now, actor=claim.owner,
                       sent_message_id=claim.row.sent_message_id,
                       reply_command_result_id=claim.row.command_result_id)
    return True


def reap(config: Config, now: float, actor: str = "reaper") -> tuple[int, int]:
    """Expired leases go back to retry with the same key, or to a human past the window."""
    return retrying(_reap, config, now, actor)


def _reap(config: Config, now: float, actor: str) -> tuple[int, int]:
    returned = reconciling = 0
    with write_transaction():
        query = OutboxRow.select().where(
            OutboxRow.state.in_([OutboxState.CLAIMED.value, OutboxState.SENDING.value])
            & (OutboxRow.lease_expires_at < now)
        )
        if not is_sqlite():
            query = query.for_update("FOR UPDATE SKIP LOCKED")
        for row in query:
            unknown_since = row.first_attempt_at
            if unknown_since is not None and now - unknown_since >= config.outbound.reconcile_after_s:
                _set(row, now, state=OutboxState.NEEDS_RECONCILIATION.value, lease_owner="",
                     last_error="send outcome unknown past the idempotency window; check the thread")
                audit(row, "outbox.needs_reconciliation", actor, now, previous_owner=row.lease_owner)
                reconciling += 1
            else:
                previous = row.lease_owner
                _set(row, now, state=OutboxState.RETRY.value, lease_owner="", lease_expires_at=now)
                audit(row, "outbox.lease_expired", actor, now, previous_owner=previous)
                returned += 1
    return returned, reconciling


def oldest_waiting_at() -> float | None:
    """When the oldest waiting entry was approved (for alerts)."""
    return OutboxRow.select(fn.MIN(OutboxRow.approved_at)).where(
        OutboxRow.state.in_(["pending", "retry"])).scalar()


def now_or(now) -> float:
    """Epoch seconds from None, a datetime or a number."""
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        return (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).timestamp()
    return float(now)
