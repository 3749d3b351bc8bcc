"""The tracker-write dispatcher: claim, look for an earlier attempt if its outcome is unknown, write once, record.

Each tracker gets its own threads (`TrackerDispatcher`), so a tracker that is down or rate limited holds
only its own writes: triage, customer replies and the other trackers carry on. Crash points for the
crash tests: tracker_after_claim, tracker_after_begin, tracker_after_http, tracker_after_record.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from typing import Callable

from pydantic import BaseModel

from triage_tui.config import Config
from triage_tui.domain import TrackerOp
from triage_tui.domain import TrackerWriteState as S
from triage_tui.outbound.faults import fault_point
from triage_tui.outbound.tracker_claims import TrackerClaim, begin_write, claim_next, finish, reap, record_result
from triage_tui.store.db import connection
from triage_tui.store.transient import until_committed
from triage_tui.trackers.base import MAYBE_LANDED, ExternalRef, Tracker, TrackerError, WriteRequest, WriteResult
from triage_tui.trackers.registry import build_tracker, external_trackers

log = logging.getLogger(__name__)
POINTS = ("tracker_after_claim", "tracker_after_begin", "tracker_after_http", "tracker_after_record")
DOWN_PAUSE_S = 30.0


class TrackerReport(BaseModel):
    """What one dispatcher pass over one tracker did."""

    tracker: str
    claimed: int = 0
    written: int = 0
    reconciled: int = 0
    retried: int = 0
    waited: int = 0
    failed: int = 0
    needs_reconciliation: int = 0
    held: int = 0
    stale: int = 0
    reaped: int = 0
    paused: bool = False
    blocked_until: float = 0.0
    errors: list[str] = []


def to_request(claim: TrackerClaim) -> WriteRequest:
    """The adapter's view of a claimed write: stored content, client id, and the ticket's ref."""
    row, link = claim.row, claim.link
    return WriteRequest(
        command_result_id=row.command_result_id, op=TrackerOp(row.op), ticket_id=row.ticket_id,
        payload=json.loads(row.payload or "{}"), client_id=row.client_id,
        ref=ExternalRef(link.external_id, link.external_key, link.url) if link is not None else None,
        first_attempt_at=row.first_attempt_at, last_sent_at=claim.prior_sent_at,
    )


def backoff(config: Config, attempt: int, hint: float | None = None) -> float:
    """Seconds before the next try: the tracker's own hint, else capped exponential with jitter."""
    if hint is not None:
        return min(config.tracking.max_backoff_s, max(0.0, hint))
    base = min(config.tracking.max_backoff_s, 2.0 * 2 ** max(0, attempt - 1))
    return base * random.uniform(0.7, 1.0)


def _record(claim: TrackerClaim, result: WriteResult, now: float, report: TrackerReport) -> None:
    detail = {"replay": result.replay, "reconciled": result.reconciled, **({"note": result.note} if result.note else {})}
    # The write landed: its record is retried through transient database errors until it commits.
    done = until_committed(record_result, claim, now, external_id=result.external_id,
                           external_key=result.external_key, url=result.url, remote_id=result.remote_id, detail=detail)
    report.written += done
    report.reconciled += done and result.reconciled
    report.stale += not done


def _failure(config: Config, tracker: Tracker, claim: TrackerClaim, exc: TrackerError, now: float,
             report: TrackerReport) -> None:
    message = str(exc)[:500]
    report.errors.append(message)
    row = claim.row
    values: dict = {"lease_owner": "", "last_error": message, "error_kind": exc.kind}
    if exc.landed == MAYBE_LANDED:
        unknown = row.unknown_attempts + 1
        values.update(outcome_unknown=True, unknown_attempts=unknown)
        if unknown >= config.tracking.max_unknown_attempts:
            values.update(state=S.NEEDS_RECONCILIATION.value)
            action = "tracker.needs_reconciliation"
        else:
            values.update(state=S.RETRY.value, not_before=now + backoff(config, unknown, exc.retry_after))
            action = "tracker.outcome_unknown"
    else:
        # nothing of this attempt landed: what we knew before it still stands
        values.update(outcome_unknown=claim.prior_unknown, last_sent_at=claim.prior_sent_at)
        if exc.retryable:
            values.update(state=S.RETRY.value, not_before=now + backoff(config, row.attempts, exc.retry_after))
            action = "tracker.retry"
        else:
            values.update(state=S.FAILED.value)
            action = "tracker.failed"
    if exc.kind == "unavailable":
        tracker.blocked_until = max(getattr(tracker, "blocked_until", 0.0), now + min(DOWN_PAUSE_S, backoff(config, 1)))
    done = finish(claim, now, action, detail={"error": message, "kind": exc.kind, "status": exc.status}, **values)
    if not done:
        report.stale += 1
    elif values["state"] == S.RETRY.value:
        report.retried += 1
    elif values["state"] == S.FAILED.value:
        report.failed += 1
    else:
        report.needs_reconciliation += 1


def write_one(config: Config, tracker: Tracker, claim: TrackerClaim, clock: Callable[[], float],
              report: TrackerReport) -> None:
    """Start, (reconcile,) write and record one claimed write."""
    if claim.row.kind != tracker.kind:  # the config renamed a tracker to another kind since this was queued
        why = (f"tracker {tracker.name!r} is now of kind {tracker.kind}; this write was queued for "
               f"{claim.row.kind}: point a tracker of that kind at it, then retry")
        report.failed += finish(claim, clock(), "tracker.failed", from_states=(S.CLAIMED.value,), detail={"error": why},
                                state=S.FAILED.value, lease_owner="", last_error=why, error_kind="config")
        return
    started = begin_write(claim, clock(), config.tracking.lease_s)
    if started != "started":
        report.held += started == "held"
        report.stale += started == "stale"
        return
    fault_point("tracker_after_begin")
    request = to_request(claim)
    try:
        result = None
        if claim.prior_unknown:
            found = tracker.reconcile(request, clock())
            if found.verdict == "landed":
                result = found.result
            elif found.verdict in ("wait", "human"):
                human = found.verdict == "human"
                values = dict(state=S.NEEDS_RECONCILIATION.value if human else S.RETRY.value, lease_owner="",
                              outcome_unknown=True, last_sent_at=claim.prior_sent_at, last_error=found.reason[:500])
                if not human:
                    values["not_before"] = found.retry_at
                done = finish(claim, clock(), "tracker.needs_reconciliation" if human else "tracker.reconcile_wait",
                              detail={"reason": found.reason}, **values)
                report.needs_reconciliation += done and human
                report.waited += done and not human
                return
        if result is None:
            result = tracker.write(request)
    except TrackerError as exc:
        _failure(config, tracker, claim, exc, clock(), report)
        return
    except Exception as exc:  # noqa: BLE001 - an adapter bug after sending: treat the outcome as unknown
        log.exception("tracker %s: unexpected error", tracker.name)
        _failure(config, tracker, claim, TrackerError(f"{type(exc).__name__}: {exc}", kind="unknown",
                                                      landed=MAYBE_LANDED, retryable=True), clock(), report)
        return
    fault_point("tracker_after_http")
    _record(claim, result, clock(), report)
    fault_point("tracker_after_record")


def dispatch_tracker_once(config: Config, tracker: Tracker, *, owner: str, now: float | None = None,
                          max_writes: int = 20) -> TrackerReport:
    """Reap expired leases, then claim and write up to `max_writes` writes of this tracker."""
    report = TrackerReport(tracker=tracker.name)
    clock = (lambda: now) if now is not None else time.time
    report.reaped, report.needs_reconciliation = reap(config, clock(), actor=owner)
    for _ in range(max_writes):
        blocked = getattr(tracker, "blocked_until", 0.0)
        if blocked > clock():
            report.blocked_until = blocked
            break
        claim, paused = claim_next(config, tracker.name, owner, clock())
        if paused:
            report.paused = True
            break
        if claim is None:
            break
        report.claimed += 1
        fault_point("tracker_after_claim")
        write_one(config, tracker, claim, clock, report)
    return report


class TrackerDispatcher:
    """Background threads writing to every configured external tracker (`max_in_flight` each)."""

    def __init__(self, config: Config, *, owner: str, trackers: list[str] | None = None,
                 factory: Callable[[Config, str], Tracker] = build_tracker) -> None:
        self.config = config
        self.owner = owner
        self.names = external_trackers(config) if trackers is None else list(trackers)
        self.factory = factory
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._last: dict[str, TrackerReport] = {}
        self._errors: dict[str, str] = {}
        self._trackers: dict[str, Tracker] = {}

    def start(self) -> None:
        """Start the threads (once); returns at once."""
        if self._threads:
            return
        for name in self.names:
            for slot in range(self.config.tracker(name).max_in_flight):
                thread = threading.Thread(target=self._run, args=(name, f"{self.owner}/{name}/{slot}"),
                                          name=f"tracker-{name}-{slot}", daemon=True)
                self._threads.append(thread)
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask every thread to stop and wait up to `timeout` seconds in all."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            for tracker in self._trackers.values():
                tracker.close()

    def problems(self) -> dict[str, str]:
        """This process's latest problem per tracker (a missing secret, a refusal), for the console."""
        with self._lock:
            return dict(self._errors)

    def _tracker(self, name: str) -> Tracker:
        """One adapter per tracker, shared by its threads (its pacing and rate-limit state with it)."""
        with self._lock:
            if name not in self._trackers:
                self._trackers[name] = self.factory(self.config, name)
            return self._trackers[name]

    def _run(self, name: str, owner: str) -> None:
        idle = self.config.tracking.idle_s
        while not self._stop.is_set():
            wait = idle
            try:
                with connection():
                    tracker = self._tracker(name)
                    report = dispatch_tracker_once(self.config, tracker, owner=owner)
                with self._lock:
                    self._last[name] = report
                    if report.errors:
                        self._errors[name] = report.errors[-1]
                    elif report.written:
                        self._errors.pop(name, None)
                wait = max(0.0 if report.claimed else idle, report.blocked_until - time.time())
            except TrackerError as exc:  # a missing secret: say so, try again later
                with self._lock:
                    self._errors[name] = str(exc)
                wait = max(idle, DOWN_PAUSE_S)
            except Exception as exc:  # noqa: BLE001 - the loop never dies; writes keep their state
                log.exception("tracker dispatcher %s failed", name)
                with self._lock:
                    self._errors[name] = f"{type(exc).__name__}: {exc}"
            self._stop.wait(wait)

