"""The poller: per inbox, list messages received after (watermark - overlap) in bounded pages."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import asdict, dataclass, field

from triage_tui.config import Config
from triage_tui.ingest.pipeline import Delivery, IngestReport, Pipeline
from triage_tui.store.text import to_epoch
from triage_tui.store.watermarks import (
    PollLease,
    PollLeaseLost,
    advance_watermark,
    claim_poll_lease,
    clear_sweep,
    load_sweep,
    poll_wait_s,
    read_watermark,
    release_poll_lease,
    renew_poll_lease,
    save_sweep,
)

log = logging.getLogger(__name__)


@dataclass
class Sweep:
    """One pass over everything since the watermark; it may span several bounded polls."""

    received_after: int | None
    received_before: int | None = None
    high: int = 0


@dataclass
class PollResult:
    """What one bounded poll of one inbox did."""

    grant_id: str
    report: IngestReport = field(default_factory=IngestReport)
    complete: bool = True
    pages: int = 0
    skipped: int = 0
    busy: bool = False  # another worker holds (or just finished) this grant's poll
    retry_in_s: float | None = None  # when busy: seconds before another try is worth it


def default_holder() -> str:
    """This process as a poll-lease holder: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_is_dead(holder: str) -> bool:
    """True when `holder` names a process on this host that no longer runs (killed mid-poll)."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class Poller:
    """Bounded polls that resume where the last one stopped; the watermark moves only after commit.

    Workers sharing a store take turns: a poll runs under the grant's poll lease (fenced, renewed
    after every page, expiring after `worker.lease_s` if its worker dies, at once if that worker ran
    on this host and is gone), so only one polls a grant at a time. A worker that finds the lease
    held checks again every second (`PollResult.retry_in_s`), so it takes over within a second.
    """

    def __init__(self, config: Config, gateway, pipeline: Pipeline, *, holder: str | None = None,
                 respect_schedule: bool = False) -> None:
        self.config = config
        self.gateway = gateway
        self.pipeline = pipeline
        self.holder = holder or default_holder()
        # True for long-running workers: skip a grant another worker polled less than poll_interval_s ago
        self.respect_schedule = respect_schedule

    def poll(self, grant_id: str) -> PollResult:
        """At most `max_pages_per_poll` pages under the grant's poll lease; `busy` when another has it."""
        worker = self.config.worker
        lease = claim_poll_lease(grant_id, self.holder, lease_s=worker.lease_s,
                                 respect_schedule=self.respect_schedule, holder_is_dead=holder_is_dead)
        if lease is None:
            return PollResult(grant_id, busy=True, retry_in_s=poll_wait_s(grant_id))
        result = PollResult(grant_id)
        try:
            self._poll(grant_id, lease, result)
        except PollLeaseLost as exc:
            log.warning("%s", exc)
            return PollResult(grant_id, report=result.report, pages=result.pages, busy=True)
        except BaseException:
            try:
                release_poll_lease(lease)
            except Exception:  # noqa: BLE001 - the lease expires on its own; keep the first error
                log.warning("could not release the poll lease of %s", grant_id)
            raise
        release_poll_lease(lease, next_poll_in_s=worker.poll_interval_s if result.complete else 0)
        return result

    def _poll(self, grant_id: str, lease: PollLease, result: PollResult) -> None:
        """Pages come newest first; after each committed page the sweep remembers (in the store, so a
        crash does not restart it) that everything down to the oldest message seen is done.
        """
        worker = self.config.worker
        sweep = self._load(grant_id)
        start_before = sweep.received_before
        last_cursor: str | None = None
        narrowed = False
        pages = self.gateway.iter_message_pages(
            grant_id, received_after=sweep.received_after, received_before=sweep.received_before,
            page_limit=worker.page_limit, max_pages=worker.max_pages_per_poll, with_headers=True,
        )
        for page in pages:
            result.pages += 1
            result.skipped += page.skipped
            last_cursor = page.next_cursor
            lease = renew_poll_lease(lease, lease_s=worker.lease_s)
            if not page.messages:
                continue
            items = [(m, Delivery("poll")) for m in page.messages]
            result.report.add(self.pipeline.ingest_messages(grant_id, items, fetch_threads=False))
            stamps = [int(to_epoch(m.received_at) or 0) for m in page.messages]
            sweep.high = max(sweep.high, *stamps)
            resume = min(stamps) + 1
            if last_cursor and (start_before is None or resume < start_before):
                sweep.received_before = min(resume, sweep.received_before or resume)
                narrowed = True
                save_sweep(grant_id, asdict(sweep), lease=lease)
        if not last_cursor:
            advance_watermark(grant_id, sweep.high or None, lease=lease)
            clear_sweep(grant_id, lease=lease)
            return
        result.complete = False
        if not narrowed:
            # a run of identical timestamps cannot narrow the window: start the sweep over
            clear_sweep(grant_id, lease=lease)

    def reset(self, grant_id: str) -> None:
        """Forget a partial sweep (the next poll restarts from the stored watermark)."""
        clear_sweep(grant_id)

    def _load(self, grant_id: str) -> Sweep:
        saved = load_sweep(grant_id)
        if saved:
            return Sweep(received_after=saved.get("received_after"), received_before=saved.get("received_before"),
                         high=int(saved.get("high") or 0))
        mark = read_watermark(grant_id).received_after
        after = max(0, mark - self.config.worker.overlap_s) if mark else None
        return Sweep(received_after=after)
