"""Reading tracker writes and links: pending and failed writes, tickets with their keys, problems, retry."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from peewee import fn

from triage_tui.config import Config
from triage_tui.domain import (
    AuditEvent,
    QueueItem,
    TicketTracking,
    TrackerLink,
    TrackerOp,
    TrackerProblem,
    TrackerWriteEntry,
    TrackerWriteState,
)
from triage_tui.store.audit import record_audit
from triage_tui.store.control import TRACKER_PAUSE, read_stop_switch
from triage_tui.store.db import write_transaction
from triage_tui.store.models import TicketRow, TrackerLinkRow, TrackerWriteRow
from triage_tui.store.text import from_epoch

S = TrackerWriteState
PENDING_STATES = (S.PENDING.value, S.CLAIMED.value, S.WRITING.value, S.RETRY.value)
FAILED_STATES = (S.FAILED.value, S.NEEDS_RECONCILIATION.value)


def to_write(row: TrackerWriteRow, linked: bool | None = None) -> TrackerWriteEntry:
    """A tracker write row as the domain type."""
    waiting = False
    if row.op != TrackerOp.CREATE.value and row.state in PENDING_STATES:
        waiting = not linked if linked is not None else TrackerLinkRow.get_or_none(
            (TrackerLinkRow.ticket_id == row.ticket_id) & (TrackerLinkRow.tracker == row.tracker)) is None
    return TrackerWriteEntry(
        command_result_id=row.command_result_id, tracker=row.tracker, kind=row.kind, op=TrackerOp(row.op),
        ticket_id=row.ticket_id, grant_id=row.grant_id, thread_id=row.thread_id, state=S(row.state),
        attempts=row.attempts, outcome_unknown=row.outcome_unknown, waiting_for_create=waiting,
        last_error=row.last_error, error_kind=row.error_kind,
        not_before=from_epoch(row.not_before) if row.state == S.RETRY.value else None,
        created_at=from_epoch(row.created_at), updated_at=from_epoch(row.updated_at), done_at=from_epoch(row.done_at))


def to_link(row: TrackerLinkRow) -> TrackerLink:
    """A tracker link row as the domain type."""
    return TrackerLink(ticket_id=row.ticket_id, tracker=row.tracker, kind=row.kind, external_id=row.external_id,
                       external_key=row.external_key, url=row.url, created_at=from_epoch(row.created_at))


def get_write(command_result_id: str) -> TrackerWriteEntry | None:
    """One write by its command_result_id."""
    row = TrackerWriteRow.get_or_none(TrackerWriteRow.command_result_id == command_result_id)
    return to_write(row) if row else None


def pending_writes(limit: int = 100) -> list[TrackerWriteEntry]:
    """Writes still on their way (pending, claimed, writing, retry), oldest first."""
    query = (TrackerWriteRow.select().where(TrackerWriteRow.state.in_(PENDING_STATES))
             .order_by(TrackerWriteRow.id).limit(limit))
    return [to_write(row) for row in query]


def failed_writes(limit: int = 100) -> list[TrackerWriteEntry]:
    """Writes a person must look at (failed, needs reconciliation), newest first."""
    query = (TrackerWriteRow.select().where(TrackerWriteRow.state.in_(FAILED_STATES))
             .order_by(TrackerWriteRow.updated_at.desc(), TrackerWriteRow.id.desc()).limit(limit))
    return [to_write(row) for row in query]


def count_pending() -> int:
    """Tracker writes still on their way."""
    return TrackerWriteRow.select().where(TrackerWriteRow.state.in_(PENDING_STATES)).count()


def tracker_counts() -> dict[str, dict[str, int]]:
    """Writes per tracker and state (for `status --json`)."""
    query = (TrackerWriteRow.select(TrackerWriteRow.tracker, TrackerWriteRow.state,
                                    fn.COUNT(TrackerWriteRow.id).alias("n"))
             .group_by(TrackerWriteRow.tracker, TrackerWriteRow.state))
    out: dict[str, dict[str, int]] = {}
    for row in query:
        out.setdefault(row.tracker, {})[row.state] = row.n
    return out


def links_for(ticket_ids: list[str]) -> dict[str, list[TrackerLink]]:
    """The links of these tickets, by ticket id (for the console and the thread view)."""
    out: dict[str, list[TrackerLink]] = {}
    if ticket_ids:
        for row in TrackerLinkRow.select().where(TrackerLinkRow.ticket_id.in_(ticket_ids)).order_by(TrackerLinkRow.id):
            out.setdefault(row.ticket_id, []).append(to_link(row))
    return out


def with_tracker_keys(items: list[QueueItem]) -> list[QueueItem]:
    """Queue items with their ticket's external key and URL (the first external tracker's), one query."""
    ids = sorted({item.ticket_id for item in items if item.ticket_id})
    if not ids:
        return items
    found: dict[str, TrackerLink] = {}
    for links in links_for(ids).values():
        for link in links:
            if link.kind != "local":
                found.setdefault(link.ticket_id, link)
    return [item.model_copy(update={"ticket_key": found[item.ticket_id].external_key,
                                    "ticket_url": found[item.ticket_id].url}) if item.ticket_id in found else item
            for item in items]


def list_tickets(limit: int = 200, ticket_id: str | None = None) -> list[TicketTracking]:
    """Tickets newest first, each with its external keys and URLs and its open or failed tracker writes."""
    query = TicketRow.select(TicketRow.ticket_id, TicketRow.grant_id, TicketRow.thread_id, TicketRow.created_at)
    if ticket_id:
        query = query.where(TicketRow.ticket_id == ticket_id)
    known = {row.ticket_id: (row.grant_id, row.thread_id, row.created_at)
             for row in query.order_by(TicketRow.created_at.desc()).limit(limit)}
    for model in (TrackerWriteRow, TrackerLinkRow):  # tickets known only through their tracker rows
        extra = model.select(model.ticket_id, model.grant_id, model.thread_id, fn.MIN(model.created_at).alias("first"))
        if ticket_id:
            extra = extra.where(model.ticket_id == ticket_id)
        grouped = extra.group_by(model.ticket_id, model.grant_id, model.thread_id)
        for row in grouped.order_by(fn.MIN(model.created_at).desc()).limit(limit):
            known.setdefault(row.ticket_id, (row.grant_id, row.thread_id, row.first))
    ids = sorted(known, key=lambda t: known[t][2] or 0, reverse=True)[:limit]
    links = links_for(ids)
    open_rows: dict[str, list[TrackerWriteEntry]] = {}
    if ids:
        rows = TrackerWriteRow.select().where(TrackerWriteRow.ticket_id.in_(ids)
                                              & TrackerWriteRow.state.in_(PENDING_STATES + FAILED_STATES))
        for row in rows.order_by(TrackerWriteRow.id):
            linked = any(link.tracker == row.tracker for link in links.get(row.ticket_id, []))
            open_rows.setdefault(row.ticket_id, []).append(to_write(row, linked))
    return [TicketTracking(ticket_id=t, grant_id=known[t][0], thread_id=known[t][1], links=links.get(t, []),
                           open_writes=open_rows.get(t, [])) for t in ids]


def retry_writes(target: str, *, actor: str, now: float | None = None) -> list[str]:
    """Send failed or needs-reconciliation writes (of a ticket id, or one command_result_id) back to the queue.

    A write whose outcome was unknown keeps that mark, so it is looked for in the tracker before it
    is sent again: a retry is never blind. Returns the command_result_ids requeued.
    """
    now = time.time() if now is None else now
    requeued = []
    with write_transaction():
        rows = TrackerWriteRow.select().where(
            ((TrackerWriteRow.ticket_id == target) | (TrackerWriteRow.command_result_id == target))
            & TrackerWriteRow.state.in_(FAILED_STATES))
        for row in rows:
            TrackerWriteRow.update(state=S.RETRY.value, not_before=now, unknown_attempts=0, lease_owner="",
                                   updated_at=now).where(TrackerWriteRow.id == row.id).execute()
            record_audit(AuditEvent(
                action="tracker.retry_requested", actor=actor, at=datetime.fromtimestamp(now, tz=timezone.utc),
                tenant_id=row.tenant_id, environment=row.environment, grant_id=row.grant_id, thread_id=row.thread_id,
                ticket_id=row.ticket_id, command_result_id=row.command_result_id,
                detail={"tracker": row.tracker, "op": row.op, "previous_state": row.state,
                        "last_error": row.last_error[:300], "reconcile_first": row.outcome_unknown}))
            requeued.append(row.command_result_id)
    return requeued


def tracker_problems(config: Config | None = None, now: float | None = None) -> list[TrackerProblem]:
    """One line per tracker in trouble: credentials refused, unreachable, rate limited, needing a human; and the pause."""
    now = time.time() if now is None else now
    problems = []
    pause = read_stop_switch(now, key=TRACKER_PAUSE)
    if pause.on:
        waiting = count_pending()
        problems.append(TrackerProblem(tracker="*", kind="*", problem="paused", count=waiting,
                                       line=f"tracker writes paused by {pause.actor} ({pause.reason}); {waiting} waiting"))
    last_done = {row.tracker: row.last for row in TrackerWriteRow.select(
        TrackerWriteRow.tracker, fn.MAX(TrackerWriteRow.done_at).alias("last")).group_by(TrackerWriteRow.tracker)}
    troubled = (TrackerWriteRow.select().where(
        (TrackerWriteRow.state.in_([S.FAILED.value, S.RETRY.value]) & (TrackerWriteRow.error_kind != ""))
        | (TrackerWriteRow.state == S.NEEDS_RECONCILIATION.value)).order_by(TrackerWriteRow.updated_at.desc()))
    seen: dict[tuple[str, str], TrackerProblem] = {}
    for row in troubled:
        problem = _problem_of(row)
        if problem is None or (problem != "needs_human" and row.updated_at < (last_done.get(row.tracker) or 0)):
            continue
        key = (row.tracker, problem)
        if key in seen:
            seen[key] = seen[key].model_copy(update={"count": seen[key].count + 1})
            continue
        seen[key] = TrackerProblem(tracker=row.tracker, kind=row.kind, problem=problem, count=1,
                                   line=_line(row, problem))
    order = {"auth": 0, "config": 1, "paused": 2, "needs_human": 3, "down": 4, "rate_limited": 5, "rejected": 6}
    problems = sorted([*problems, *seen.values()], key=lambda p: (order.get(p.problem, 9), p.tracker))
    return [p.model_copy(update={"line": p.line + (f" ({p.count} writes)" if p.count > 1 else "")}) for p in problems]


def _problem_of(row: TrackerWriteRow) -> str | None:
    if row.state == S.NEEDS_RECONCILIATION.value:
        return "needs_human"
    return {"auth": "auth", "config": "config", "unavailable": "down", "unknown": "down",
            "rate_limited": "rate_limited", "rejected": "rejected"}.get(row.error_kind)


def _line(row: TrackerWriteRow, problem: str) -> str:
    where = f"{row.kind} tracker {row.tracker!r}"
    if problem == "auth":
        return f"{where} refuses our credentials: check its token ({row.last_error[:160]})"
    if problem == "needs_human":
        return f"{where}: a write needs a human ({row.op} for {row.ticket_id}): {row.last_error[:160]}"
    if problem == "down":
        return f"{where} unreachable or failing; writes are queued ({row.last_error[:160]})"
    if problem == "rate_limited":
        return f"{where} is rate limiting us; writes wait ({row.last_error[:160]})"
    return f"{where}: {row.last_error[:200]}"


def tracker_alert(config: Config | None = None, now: float | None = None) -> str:
    """The most pressing tracker problem in one line for the console header, or ""."""
    problems = tracker_problems(config, now)
    return problems[0].line if problems else ""


def tracker_status(config: Config | None = None, now: float | None = None) -> dict:
    """JSON-ready tracker facts for `status`: the pause, writes per tracker and state, and problem lines."""
    pause = read_stop_switch(now, key=TRACKER_PAUSE)
    return {
        "tracker_pause": pause.model_dump(mode="json"),
        "tracker_writes_pending": count_pending(),
        "tracker_writes_failed": TrackerWriteRow.select().where(TrackerWriteRow.state.in_(FAILED_STATES)).count(),
        "tracker_writes_by_tracker": tracker_counts(),
        "tracker_problems": [p.line for p in tracker_problems(config, now)],
    }
