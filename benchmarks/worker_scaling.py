"""Worker scaling on PostgreSQL: 1, 2 and 4 worker processes draining the same webhook backlog.

Run by hand (PostgreSQL must be up, e.g. `.ci/start-postgres`; the schema of the database is dropped):
    /work/venv/bin/python benchmarks/worker_scaling.py [--messages 2000] [--latency-ms 20] \
        [--pg-url postgresql://triage@127.0.0.1:54329/triage_bench]

The sandbox (its own process) holds the messages; the backlog is one pending `message.created`
event per message. Each worker process claims batches with FOR UPDATE SKIP LOCKED and fetches
every message from the sandbox (with `--latency-ms` per request, like a real API), classifies it
with the rules and stores it. Prints messages/s per worker count, the ratio to 1 worker, and checks
from the store that nothing was processed twice or lost.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._support import API_KEY, GRANT, SandboxProcess, config_toml  # noqa: E402

DEFAULT_PG = os.environ.get("TRIAGE_TUI_BENCH_PG_URL", "postgresql://triage@127.0.0.1:54329/triage_bench")


def worker_process(api_uri: str, db_url: str, batch: int, start, out) -> None:
    """One `triage-tui worker`-style process: drain claimed events until none are left."""
    from triage_tui.config import parse_config
    from triage_tui.ingest.runner import build_default_classifier
    from triage_tui.ingest.worker import CycleReport, Worker
    from triage_tui.nylas.gateway import Gateway
    from triage_tui.store.db import open_database
    from triage_tui.store.webhook_events import pending_count

    config = parse_config(config_toml(api_uri, db_url, chain='["rules"]'))
    config = config.model_copy(update={"nylas": config.nylas.model_copy(update={"max_requests_per_s": 1000})})
    open_database(config.database)
    worker = Worker(config, Gateway(config.nylas, API_KEY), build_default_classifier(config))
    start.wait(timeout=300)
    drained = 0
    while True:
        got = worker.drain(CycleReport(), limit=batch)
        drained += got
        if not got:
            if not pending_count():
                break
            time.sleep(0.05)  # another worker holds the rest
    out.put(drained)


def reset(db_url: str) -> None:
    import psycopg2

    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    conn.close()


def load_backlog(db_url: str, ids: list[str]) -> None:
    from triage_tui.store.db import open_url
    from triage_tui.store.models import database
    from triage_tui.store.webhook_events import record_events

    reset(db_url)
    db = open_url(db_url)
    for start in range(0, len(ids), 500):
        record_events([dict(event_id=f"ev-{m}", grant_id=GRANT, message_id=m, trigger="message.created",
                            raw=b"{}") for m in ids[start : start + 500]])
    db.close()
    database.initialize(None)


def check(db_url: str, ids: list[str], drained: list[int]) -> str:
    """Assert from the store: one row per id, <= 1 suggestion each, one ingest.stored each, all events done."""
    from peewee import fn

    from triage_tui.store.db import open_url
    from triage_tui.store.models import AuditRow, MessageRow, SuggestionRow, WebhookEventRow, database

    db = open_url(db_url)
    rows = [r for (r,) in MessageRow.select(MessageRow.message_id).tuples()]
    most = (SuggestionRow.select(fn.COUNT(SuggestionRow.id)).group_by(SuggestionRow.message)
            .order_by(fn.COUNT(SuggestionRow.id).desc()).limit(1).scalar()) or 0
    stored = AuditRow.select().where(AuditRow.action == "ingest.stored").count()
    not_done = WebhookEventRow.select().where(WebhookEventRow.status != "done").count()
    db.close()
    database.initialize(None)
    assert len(rows) == len(set(rows)) == len(ids), f"{len(rows)} rows, {len(set(rows))} distinct, {len(ids)} sent"
    assert set(rows) == set(ids), "lost messages"
    assert most <= 1, f"a message has {most} suggestions"
    assert stored == len(ids), f"{stored} ingest.stored audit rows for {len(ids)} messages"
    assert not_done == 0, f"{not_done} events not done"
    assert sum(drained) == len(ids), f"events drained {sum(drained)} != {len(ids)} (a claim was taken twice)"
    return f"rows={len(rows)} distinct={len(set(rows))} max_suggestions={most} processed_twice=0"


def run(api_uri: str, db_url: str, ids: list[str], processes: int, batch: int) -> tuple[float, list[int]]:
    load_backlog(db_url, ids)
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(processes + 1)
    out = ctx.Queue()
    workers = [ctx.Process(target=worker_process, args=(api_uri, db_url, batch, start, out))
               for _ in range(processes)]
    for process in workers:
        process.start()
    start.wait(timeout=300)
    began = time.perf_counter()
    drained: list[int] = []
    while len(drained) < processes:
        try:
            drained.append(out.get(timeout=1))
        except queue.Empty:
            failed = [p.exitcode for p in workers if p.exitcode not in (None, 0)]
            assert not failed, f"a worker exited with {failed[0]}"
    elapsed = time.perf_counter() - began
    for process in workers:
        process.join(30)
        assert process.exitcode == 0, f"a worker exited with {process.exitcode}"
    return elapsed, drained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=20, help="sandbox latency per API request")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--batch", type=int, default=50, help="events per claim")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args()
    print(f"worker scaling: {args.messages} pending webhook events on PostgreSQL, sandbox latency "
          f"{args.latency_ms} ms, claim batch {args.batch}, {os.cpu_count()} CPUs")
    sandbox = SandboxProcess(args.messages, latency_ms=args.latency_ms)
    try:
        ids = sorted(sandbox.truth())
        baseline = None
        for count in [int(n) for n in args.workers.split(",")]:
            elapsed, drained = run(sandbox.api_uri, args.pg_url, ids, count, args.batch)
            rate = len(ids) / elapsed
            baseline = baseline or rate
            verdict = check(args.pg_url, ids, drained)
            print(f"  {count} worker(s): {elapsed:6.1f} s  {rate:7.1f} msg/s  x{rate / baseline:4.2f} vs 1 worker  "
                  f"per worker {drained}  {verdict}", flush=True)
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
