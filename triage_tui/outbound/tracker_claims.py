"""Tracker-write state changes under the lock: claim with a lease and fencing token, start, record, reap.

Every change is one short transaction with its audit row; no transaction is held across an HTTP call.
The tracker pause (`pause --trackers`) is read inside the claim and again before the write starts; the
stop switch for customer mail is not consulted: tracker writes are not customer mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from peewee import fn

from triage_tui.config import Config
from triage_tui.domain import AuditEvent, TrackerOp
from triage_tui.domain import TrackerWriteState as S
from triage_tui.ops import events
from triage_tui.store.audit import record_audit
from triage_tui.store.control import TRACKER_PAUSE, read_stop_switch
from triage_tui.store.db import is_sqlite, write_transaction
from triage_tui.store.models import ControlRow, TrackerLinkRow, TrackerWriteRow
from triage_tui.store.text import db_safe

OPEN_STATES = (S.PENDING.value, S.CLAIMED.value, S.WRITING.value, S.RETRY.value)
FAILURE_OUTCOMES = ("tracker.retry", "tracker.outcome_unknown", "tracker.failed", "tracker.needs_reconciliation")


@dataclass(frozen=True)
class TrackerClaim:
    """A write this owner holds, the fencing token later updates present, and the ticket's link."""

    row: TrackerWriteRow
    owner: str
    token: int
    link: TrackerLinkRow | None
    prior_unknown: bool
    prior_sent_at: float | None


def audit(row: TrackerWriteRow, action: str, actor: str, now: float, **detail) -> None:
    """One audit row about a tracker write (inside the caller's transaction)."""
    record_audit(AuditEvent(
        action=action, actor=actor, at=datetime.fromtimestamp(now, tz=timezone.utc), tenant_id=row.tenant_id,
        environment=row.environment, grant_id=row.grant_id, message_id=row.message_id, thread_id=row.thread_id,
        ticket_id=row.ticket_id, decision_id=row.decision_id, command_result_id=row.command_result_id,
        detail={"tracker": row.tracker, "op": row.op, "attempt": row.attempts, "fencing_token": row.fencing_token,
                **detail},
    ))


def trackers_paused(now: float) -> bool:
    """The tracker pause, read inside the current transaction (its row locked on PostgreSQL)."""
    if not is_sqlite():
        rows = list(ControlRow.select().where(ControlRow.key == TRACKER_PAUSE).for_update("FOR UPDATE"))
        if not rows:
            ControlRow.insert(key=TRACKER_PAUSE, on=False, updated_at=now).on_conflict_ignore().execute()
    return read_stop_switch(now, key=TRACKER_PAUSE).on


def _set(row: TrackerWriteRow, now: float, **values) -> None:
    for key, value in values.items():
        setattr(row, key, value)
    TrackerWriteRow.update(updated_at=now, **values).where(TrackerWriteRow.id == row.id).execute()


def _fenced(claim: TrackerClaim, states: tuple[str, ...], now: float, **values) -> bool:
    """Update only while this owner still holds this token; False means another worker took over."""
    changed = TrackerWriteRow.update(updated_at=now, **values).where(
        (TrackerWriteRow.id == claim.row.id) & (TrackerWriteRow.lease_owner == claim.owner)
        & (TrackerWriteRow.fencing_token == claim.token) & TrackerWriteRow.state.in_(states)
    ).execute() == 1
    if changed:
        for key, value in values.items():
            setattr(claim.row, key, value)
    return changed


def _candidate_query(tracker: str, now: float):
    """Writes that may go now: due, their create landed (for a comment or status), nothing older still open."""
    Earlier = TrackerWriteRow.alias("earlier")
    earlier_open = Earlier.select(Earlier.id).where(
        (Earlier.ticket_id == TrackerWriteRow.ticket_id) & (Earlier.tracker == TrackerWriteRow.tracker)
        & (Earlier.id < TrackerWriteRow.id) & Earlier.state.in_(OPEN_STATES))
    linked = TrackerLinkRow.select(TrackerLinkRow.id).where(
        (TrackerLinkRow.ticket_id == TrackerWriteRow.ticket_id) & (TrackerLinkRow.tracker == TrackerWriteRow.tracker))
    query = (TrackerWriteRow.select()
             .where((TrackerWriteRow.tracker == tracker)
                    & ((TrackerWriteRow.state == S.PENDING.value)
                       | ((TrackerWriteRow.state == S.RETRY.value) & (TrackerWriteRow.not_before <= now)))
                    & ((TrackerWriteRow.op == TrackerOp.CREATE.value) | fn.EXISTS(linked))
                    & ~fn.EXISTS(earlier_open))
             .order_by(TrackerWriteRow.id).limit(1))
    return query if is_sqlite() else query.for_update("FOR UPDATE OF t1 SKIP LOCKED")


_SQL_CACHE: dict[bool, tuple[str, list]] = {}
_TRACKER_MARK, _NOW_MARK = "\x00tracker", -1.2345e300


def _candidates(tracker: str, now: float):
    """The candidate query, its SQL built once per engine (peewee's query building dominated a claim)."""
    sqlite = is_sqlite()
    if sqlite not in _SQL_CACHE:
        _SQL_CACHE[sqlite] = _candidate_query(_TRACKER_MARK, _NOW_MARK).sql()
    sql, template = _SQL_CACHE[sqlite]
    params = [tracker if p == _TRACKER_MARK else now if p == _NOW_MARK else p for p in template]
    return TrackerWriteRow.raw(sql, *params)


def link_of(ticket_id: str, tracker: str) -> TrackerLinkRow | None:
    """Where the ticket's create landed in this tracker, if it has."""
    return TrackerLinkRow.get_or_none((TrackerLinkRow.ticket_id == ticket_id) & (TrackerLinkRow.tracker == tracker))


def claim_next(config: Config, tracker: str, owner: str, now: float) -> tuple[TrackerClaim | None, bool]:
    """Claim the oldest write of `tracker` that may go now; (claim or None, paused)."""
    with write_transaction():
        if trackers_paused(now):
            return None, True
        for row in _candidates(tracker, now):
            link = None if row.op == TrackerOp.CREATE.value else link_of(row.ticket_id, row.tracker)
            token = row.fencing_token + 1
            prior_unknown, prior_sent = row.outcome_unknown, row.last_sent_at
            _set(row, now, state=S.CLAIMED.value, lease_owner=db_safe(owner), lease_expires_at=now + config.tracking.lease_s,
                 fencing_token=token, attempts=row.attempts + 1)
            return TrackerClaim(row, row.lease_owner, token, link, prior_unknown, prior_sent), False
    return None, False


def begin_write(claim: TrackerClaim, now: float, lease_s: float) -> str:
    """Re-read the pause and mark that a request may now go out: "started", "held" or "stale".

    From here on the outcome counts as unknown until it is recorded, so a crash makes the next
    attempt look for the write before sending it again.
    """
    with write_transaction():
        if trackers_paused(now):
            held = _fenced(claim, (S.CLAIMED.value,), now, state=S.RETRY.value, lease_owner="", not_before=now)
            if held:
                audit(claim.row, "tracker.held", claim.owner, now, reason="tracker writes paused")
            return "held" if held else "stale"
        first = claim.row.first_attempt_at if claim.row.first_attempt_at is not None else now
        started = _fenced(claim, (S.CLAIMED.value,), now, state=S.WRITING.value, first_attempt_at=first,
                          outcome_unknown=True, last_sent_at=now, lease_expires_at=now + lease_s)
        if started:
            audit(claim.row, "tracker.write_started", claim.owner, now, reconcile_first=claim.prior_unknown)
    return "started" if started else "stale"


def record_result(claim: TrackerClaim, now: float, *, external_id: str = "", external_key: str = "", url: str = "",
                  remote_id: str = "", detail: dict | None = None) -> bool:
    """Record a write that landed (and the ticket's link, for a create); False when superseded.

    The one place a landed write is recorded: wrap it to retry transient database errors. If it is
    lost anyway, the lease expires and the next attempt finds the write by reconciliation.
    """
    row = claim.row
    with write_transaction():
        done = _fenced(claim, (S.WRITING.value,), now, state=S.DONE.value, done_at=now, lease_owner="",
                       outcome_unknown=False, remote_id=db_safe(remote_id or external_id)[:255], last_error="",
                       error_kind="")
        if done and row.op == TrackerOp.CREATE.value:
            TrackerLinkRow.insert(
                ticket_id=row.ticket_id, tracker=row.tracker, kind=row.kind, external_id=db_safe(external_id)[:255],
                external_key=db_safe(external_key)[:255], url=db_safe(url), command_result_id=row.command_result_id,
                tenant_id=row.tenant_id, grant_id=row.grant_id, thread_id=row.thread_id, created_at=now,
            ).on_conflict_ignore().execute()
        audit(row, "tracker.written" if done else "tracker.stale_result", claim.owner, now,
              external_key=external_key, url=url, remote_id=remote_id, **(detail or {}))
    if done:
        events.tracker_written(row)
    return done


def finish(claim: TrackerClaim, now: float, action: str, *, from_states: tuple[str, ...] = (S.WRITING.value,),
           detail: dict | None = None, **values) -> bool:
    """Record an outcome other than success, fenced, with its audit row; False when superseded."""
    with write_transaction():
        done = _fenced(claim, from_states, now, **values)
        audit(claim.row, action if done else "tracker.stale_result", claim.owner, now,
              **({"outcome": action} if not done else {}), **(detail or {}))
    if done and action in FAILURE_OUTCOMES:
        error = (detail or {}).get("error") or (detail or {}).get("reason") or values.get("last_error", "")
        events.tracker_write_failed(claim.row, action.removeprefix("tracker."), str(error))
    return done


def reap(config: Config, now: float, actor: str = "tracker-reaper") -> tuple[int, int]:
    """Expired leases: a claim goes back to retry; a started write goes back as outcome-unknown, or to a human."""
    returned = to_human = 0
    reconciliations: list[TrackerWriteRow] = []
    with write_transaction():
        query = TrackerWriteRow.select().where(
            TrackerWriteRow.state.in_([S.CLAIMED.value, S.WRITING.value]) & (TrackerWriteRow.lease_expires_at < now))
        if not is_sqlite():
            query = query.for_update("FOR UPDATE SKIP LOCKED")
        for row in query:
            previous = row.lease_owner
            if row.state == S.CLAIMED.value:
                _set(row, now, state=S.RETRY.value, lease_owner="", not_before=now)
                audit(row, "tracker.lease_expired", actor, now, previous_owner=previous)
                returned += 1
                continue
            unknown = row.unknown_attempts + 1
            if unknown >= config.tracking.max_unknown_attempts:
                _set(row, now, state=S.NEEDS_RECONCILIATION.value, lease_owner="", unknown_attempts=unknown,
                     last_error="outcome unknown after every retry; check the tracker before writing it again",
                     error_kind="unknown")
                audit(row, "tracker.needs_reconciliation", actor, now, previous_owner=previous)
                reconciliations.append(row)
                to_human += 1
            else:
                _set(row, now, state=S.RETRY.value, lease_owner="", not_before=now, unknown_attempts=unknown)
                audit(row, "tracker.lease_expired", actor, now, previous_owner=previous, outcome_unknown=True)
                returned += 1
    for row in reconciliations:
        events.tracker_write_failed(row, "needs_reconciliation", row.last_error)
    return returned, to_human
