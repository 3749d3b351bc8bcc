"""A worker process that only drains stored webhook events, in small batches (killed by the team tests)."""

from __future__ import annotations

import sys

from triage_tui.classify.chain import build_classifier
from triage_tui.config import api_key, load_config
from triage_tui.ingest.worker import CycleReport, Worker
from triage_tui.nylas.gateway import Gateway
from triage_tui.store.db import open_database
from triage_tui.store.webhook_events import pending_count


def main(config_path: str, batch: int) -> None:
    """Drain until nothing is pending, printing one line per batch."""
    config = load_config(config_path)
    open_database(config.database)
    worker = Worker(config, Gateway(config.nylas, api_key()), build_classifier(config.classifier))
    while pending_count():
        cycle = CycleReport()
        drained = worker.drain(cycle, limit=batch)
        print(f"drained {drained}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
