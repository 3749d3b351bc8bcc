"""Duplicate storm at full size: 8 processes deliver the same 1,000 messages via webhook events and polls.

Run by hand:  /work/venv/bin/python benchmarks/ingest_storm.py [--deliverers 8] [--messages 1000]

Each deliverer process stores one webhook event per message (its own event ids, like provider
upserts), polls the whole mailbox, and drains events, all at once against one SQLite file. Expect
exactly one row and at most one suggestion per message, and audit rows that count every absorbed
duplicate. The baseline in the same run is one deliverer polling alone.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._support import API_KEY, GRANT, SandboxProcess, config_toml  # noqa: E402


def deliverer(index: int, api_uri: str, db_url: str, ids: list[str], use_events: bool, start, out) -> None:
    """One process: events for every message, one full poll, then drain until nothing is pending."""
    from triage_tui.config import parse_config
    from triage_tui.ingest.runner import build_default_classifier
    from triage_tui.ingest.worker import CycleReport, Worker
    from triage_tui.nylas.gateway import Gateway
    from triage_tui.store.db import open_database
    from triage_tui.store.webhook_events import pending_count, record_event

    config = parse_config(config_toml(api_uri, db_url, chain='["rules"]',
                                      extra="[worker]\npage_limit = 200\nmax_pages_per_poll = 20\n"))
    config = config.model_copy(update={"database": config.database.model_copy(update={"busy_timeout_ms": 60_000})})
    config = config.model_copy(update={"nylas": config.nylas.model_copy(update={"max_requests_per_s": 1000})})
    open_database(config.database)
    worker = Worker(config, Gateway(config.nylas, API_KEY), build_default_classifier(config))
    order = ids[:]
    random.Random(index).shuffle(order)
    start.wait()
    cycle = CycleReport()
    if use_events:
        for message_id in order:
            record_event(f"p{index}-{message_id}", grant_id=GRANT, message_id=message_id,
                         trigger="message.created", raw=b"{}")
    worker.poll_all(cycle)
    while use_events and pending_count():
        if not worker.drain(cycle, limit=100):
            time.sleep(0.05)
    out.put(cycle.report.seen)


def run(api_uri: str, db_path: Path, ids: list[str], processes: int, use_events: bool) -> tuple[float, int]:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(processes + 1)
    out = ctx.Queue()
    workers = [ctx.Process(target=deliverer, args=(i, api_uri, f"sqlite:///{db_path}", ids, use_events, start, out))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.monotonic()
    seen = sum(out.get(timeout=1800) for _ in workers)
    seconds = time.monotonic() - began
    for worker in workers:
        worker.join(60)
        if worker.exitcode != 0:
            raise SystemExit(f"a deliverer failed with exit code {worker.exitcode}")
    return seconds, seen


def check(db_path: Path) -> dict:
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        absorbed = sum(
            __import__("json").loads(detail)["count"]
            for (detail,) in conn.execute("SELECT detail FROM audit WHERE action = 'ingest.duplicate'")
        )
        return {
            "rows": one("SELECT COUNT(*) FROM messages"),
            "distinct": one("SELECT COUNT(DISTINCT message_id) FROM messages"),
            "max_suggestions": one("SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) n FROM suggestions "
                                   "GROUP BY message_id)"),
            "stored_audits": one("SELECT COUNT(*) FROM audit WHERE action = 'ingest.stored'"),
            "absorbed": absorbed,
            "integrity": one("PRAGMA integrity_check"),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliverers", type=int, default=8)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    sandbox = SandboxProcess(args.messages)
    tmp = Path(tempfile.mkdtemp(prefix="triage-storm-"))
    try:
        ids = sorted(sandbox.truth())
        base_s, base_seen = run(sandbox.api_uri, tmp / "baseline.db", ids, 1, False)
        storm_s, storm_seen = run(sandbox.api_uri, tmp / "storm.db", ids, args.deliverers, True)
    finally:
        sandbox.stop()
    result = check(tmp / "storm.db")
    webhook = args.deliverers * len(ids)
    print(f"{len(ids)} messages; {args.deliverers} processes, each storing 1 webhook event per message and polling "
          f"the mailbox at once, SQLite WAL")
    print(f"deliveries: {webhook} webhook copies + {storm_seen - webhook} listed by the pollers (pollers share the "
          f"stored sweep and watermark, so a late poller lists only what is not yet covered)")
    print(f"baseline (1 process, poll only): {base_seen} deliveries in {base_s:.1f}s = {base_seen / base_s:.0f}/s")
    print(f"storm: {storm_seen} deliveries in {storm_s:.1f}s = {storm_seen / storm_s:.0f}/s "
          f"({(storm_seen / storm_s) / (base_seen / base_s):.2f}x the baseline rate)")
    print(f"rows {result['rows']} (distinct {result['distinct']}), max suggestions per message "
          f"{result['max_suggestions']}, ingest.stored audits {result['stored_audits']}, absorbed duplicates in "
          f"audit {result['absorbed']} (expected {storm_seen - len(ids)}), integrity {result['integrity']}")
    ok = (result["rows"] == result["distinct"] == len(ids) and result["max_suggestions"] <= 1
          and result["absorbed"] == storm_seen - len(ids) and result["integrity"] == "ok")
    print("PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
