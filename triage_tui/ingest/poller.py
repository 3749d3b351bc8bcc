"""The poller: per inbox, list messages received after (watermark - overlap) in bounded pages."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from triage_tui.config import Config
from triage_tui.ingest.pipeline import Delivery, IngestReport, Pipeline
from triage_tui.store.text import to_epoch
from triage_tui.store.watermarks import advance_watermark, clear_sweep, load_sweep, read_watermark, save_sweep

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


class Poller:
    """Bounded polls that resume where the last one stopped; the watermark moves only after commit."""

    def __init__(self, config: Config, gateway, pipeline: Pipeline) -> None:
        self.config = config
        self.gateway = gateway
        self.pipeline = pipeline

    def poll(self, grant_id: str) -> PollResult:
        """At most `max_pages_per_poll` pages; `complete` is False when more remain for the next poll.

        Pages come newest first. After each committed page the sweep remembers (in the store, so a
        crash does not restart it) that everything down to the oldest message seen is done.
        """
        worker = self.config.worker
        sweep = self._load(grant_id)
        start_before = sweep.received_before
        result = PollResult(grant_id)
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
                save_sweep(grant_id, asdict(sweep))
        if not last_cursor:
            advance_watermark(grant_id, sweep.high or None)
            clear_sweep(grant_id)
            return result
        result.complete = False
        if not narrowed:
            # a run of identical timestamps cannot narrow the window: start the sweep over
            clear_sweep(grant_id)
        return result

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
