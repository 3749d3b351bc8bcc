"""Crash campaigns for tracker writes, shared by the tests (small counts) and benchmarks/ (full counts).

A dispatcher child process is forked and SIGKILLed at a named point of a tracker write (or the fake
loses a response after the write landed); children are restarted, each with the clock moved past the
lease, until every write is done. Then the fake is asked what it holds: every ticket must have exactly
one item and one comment. The negative control dispatches "blind" (no look-up before a resend, a
fresh idempotency key or client id per attempt) and must leave duplicates behind.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
import uuid
from dataclasses import dataclass

from triage_tui.domain import Address
from triage_tui.outbound.tracker_dispatch import dispatch_tracker_once
from triage_tui.store.db import open_database
from triage_tui.store.models import TrackerWriteRow, database
from triage_tui.store.tracker_writes import enqueue_comment, enqueue_create
from triage_tui.trackers.base import Reconciled
from triage_tui.trackers.registry import build_tracker
from tests.trackers.helpers import facts

FAULT_PATHS = {"github": ("POST", "/issues"), "jira": ("POST", "/3/issue"), "linear": ("POST", "/graphql"),
               "zendesk": ("POST", "/tickets"), "webhook": ("POST", "/hooks")}


class BlindTracker:
    """Negative control only: never looks before resending, and uses a fresh key or client id per attempt."""

    def __init__(self, tracker) -> None:
        self.tracker = tracker
        self.name, self.kind = tracker.name, tracker.kind
        self.min_interval_s = tracker.min_interval_s

    @property
    def blocked_until(self) -> float:
        return self.tracker.blocked_until

    @blocked_until.setter
    def blocked_until(self, value: float) -> None:
        self.tracker.blocked_until = value

    def write(self, request):
        fresh = dataclasses.replace(request, client_id=str(uuid.uuid4()))
        if self.kind in ("zendesk", "webhook"):  # the key (webhook-id, Idempotency-Key) is the command_result_id
            fresh = dataclasses.replace(fresh, command_result_id=str(uuid.uuid4()))
        return self.tracker.write(fresh)

    def reconcile(self, request, now):
        return Reconciled.absent()

    def close(self) -> None:
        self.tracker.close()


@dataclass
class CrashRun:
    """The figures of one campaign."""

    kind: str
    point: str
    runs: int
    tickets: int
    kills: int = 0
    children: int = 0
    lost: int = 0
    duplicate_items: int = 0
    duplicate_comments: int = 0
    requests: int = 0
    seconds: float = 0.0

    def row(self) -> str:
        """One line of the figures table."""
        return (f"{self.kind:<8} {self.point:<22} {self.runs:>4} {self.tickets:>7} {self.kills:>5} {self.lost:>4} "
                f"{self.duplicate_items:>9} {self.duplicate_comments:>12} {self.requests:>8} {self.seconds:>7.1f}")


HEADER = "kind     point                  runs tickets kills lost dup_items dup_comments requests seconds"


def _child(config, fault: str, offset: float, blind: bool) -> None:
    """The body of a forked dispatcher: drain what is due, dying at the fault point if it is reached."""
    code = 0
    try:
        os.environ["TRIAGE_TUI_FAULT"] = fault
        open_database(config.database)
        tracker = build_tracker(config, "t")
        tracker = BlindTracker(tracker) if blind else tracker
        for _ in range(50):
            report = dispatch_tracker_once(config, tracker, owner=f"child-{os.getpid()}", now=time.time() + offset)
            if report.claimed == 0:
                break
    except BaseException:  # noqa: BLE001 - the parent counts a child that failed as not having drained
        code = 3
    os._exit(code)


def run_child(config, fault: str, offset: float, blind: bool) -> int:
    """Fork one dispatcher; its exit code, or -signal when it was killed."""
    database.close()  # never share a connection with a child
    pid = os.fork()
    if pid == 0:
        _child(config, fault, offset, blind)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def queue_tickets(config, count: int, prefix: str) -> list[tuple[str, list[str]]]:
    """`count` tickets, each with a create and a comment queued; [(ticket_id, [crids])]."""
    out = []
    for i in range(count):
        ticket_id = f"TKT-{prefix}-{i}-{uuid.uuid4().hex[:6]}"
        f = facts(ticket_id, subject=f"Cannot log in {ticket_id}")
        crids = [enqueue_create(config, f, actor="dana")]
        crids += enqueue_comment(config, ticket_id=ticket_id, source_id="m2", author="customer",
                                 text=f"Any news on {ticket_id}?", sender=Address(email="jane@customer.example"),
                                 actor="ingest")
        out.append((ticket_id, crids))
    return out


def count_in_fake(fake, ticket_id: str) -> tuple[int, int]:
    """(items, comments) in the fake that belong to this ticket."""
    texts = fake.state()["texts"]
    items = sum(1 for t in texts if t["kind"] == "issue" and ticket_id in t["text"])
    comments = sum(1 for t in texts if t["kind"] == "comment" and f"Any news on {ticket_id}?" in t["text"])
    return items, comments


def run_campaign(config, fake, point: str, *, runs: int, tickets: int = 1, probability: float = 0.5,
                 blind: bool = False, max_restarts: int = 30) -> CrashRun:
    """`runs` runs of `tickets` tickets: kill at `point` (or "lost": the fake drops a response) until drained."""
    label = point + (" (blind)" if blind else "")
    result = CrashRun(kind=fake.kind, point=label, runs=runs, tickets=runs * tickets)
    started = time.monotonic()
    requests_before = sum(fake.state()["requests"].values())
    method, path = FAULT_PATHS[fake.kind]
    for run in range(runs):
        queued = queue_tickets(config, tickets, f"{point[:12]}-{run}")
        crids = [c for _, cs in queued for c in cs]
        if point == "lost":
            fake.set_faults(script=[{"fault": "lost", "method": method, "path": path, "count": tickets}])
        offset = 0.0
        for restart in range(max_restarts):
            fault = "" if point == "lost" else f"{point}:{1.0 if restart == 0 else probability}"
            code = run_child(config, fault, offset, blind)
            result.children += 1
            result.kills += code == -signal.SIGKILL
            offset += config.tracking.lease_s + config.tracking.max_backoff_s + 1
            if TrackerWriteRow.select().where(TrackerWriteRow.command_result_id.in_(crids)
                                              & (TrackerWriteRow.state != "done")).count() == 0:
                break
        result.lost += TrackerWriteRow.select().where(TrackerWriteRow.command_result_id.in_(crids)
                                                      & (TrackerWriteRow.state != "done")).count()
        for ticket_id, _ in queued:
            items, comments = count_in_fake(fake, ticket_id)
            result.lost += (items == 0) + (comments == 0)
            result.duplicate_items += max(0, items - 1)
            result.duplicate_comments += max(0, comments - 1)
    result.requests = sum(fake.state()["requests"].values()) - requests_before
    result.seconds = time.monotonic() - started
    return result
