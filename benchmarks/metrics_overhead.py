"""What metrics cost ingest: the same sync with no metrics at all, instrumented, and served + scraped.

Run by hand:  python -m benchmarks.metrics_overhead [--messages 2000] [--runs 3] [--scrape-every 1.0]
              [--scrape-store 1000000 [--waiting 1000]]   (--runs 0: only the big-store scrape)

Each run syncs the whole sandbox mailbox into a fresh SQLite file in its own child process:
- bare:         ops.events calls replaced by no-ops and the lag index dropped (no metrics at all);
- instrumented: the shipped code, nothing served;
- served:       the shipped code plus the worker's /metrics server, scraped from this process every
                --scrape-every seconds (Prometheus scrapes every 15 s by default: 1 s is 15x that).
Runs are interleaved; the median rate of each variant is compared with bare, and so is the median
CPU time per message (less sensitive to other load on the machine). Goal: served costs < 5 %.
With --scrape-store N it also times one /metrics scrape of a store of N messages.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from benchmarks._support import API_KEY, ROOT, SandboxProcess, child_env, config_toml, free_port  # noqa: E402

VARIANTS = ("bare", "instrumented", "served")


def phase(variant: str, api_uri: str, db_path: str, port: int) -> dict:
    """One sync of the whole mailbox as `variant`; returns messages and seconds."""
    from triage_tui.config import parse_config
    from triage_tui.ingest.runner import build_default_classifier, sync_once
    from triage_tui.nylas.gateway import Gateway
    from triage_tui.store.db import open_database

    config = parse_config(config_toml(api_uri, f"sqlite:///{db_path}", extra="[worker]\npage_limit = 200\n"))
    db = open_database(config.database)
    server = None
    if variant == "bare":
        _no_metrics(db)
    elif variant == "served":
        from triage_tui.ops.http import OpsServer

        server = OpsServer(config, "127.0.0.1", port).start()
    classifier = build_default_classifier(config)
    cpu, started = _cpu(), time.monotonic()
    report = sync_once(config, gateway=Gateway(config.nylas, API_KEY), classifier=classifier)
    seconds, cpu_s = time.monotonic() - started, _cpu() - cpu
    if server is not None:
        server.stop()
    return {"messages": report.stored, "seconds": seconds, "cpu_s": cpu_s}


def _cpu() -> float:
    """CPU seconds of this process so far (every thread: ingest, the metrics server, its scrapes)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _no_metrics(db) -> None:
    """Undo every metrics cost: the one-line event calls and the index the lag gauge reads."""
    from triage_tui.ops import events

    for name in ("stored", "absorbed", "quarantined", "sent", "send_failed"):
        setattr(events, name, lambda *args, **kwargs: None)
    events.classify = lambda classifier, message: classifier.classify(message)
    db.execute_sql("DROP INDEX IF EXISTS messages_grant_id_received_at")


def run_phase(variant: str, api_uri: str, db_path: str, every: float) -> dict:
    """Run one variant in a child process (scraping it meanwhile when served)."""
    port = free_port()
    child = subprocess.Popen([sys.executable, __file__, "--phase", variant, api_uri, db_path, str(port)], cwd=ROOT,
                             env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    scrapes: list[float] = []
    if variant == "served":
        threading.Thread(target=_scrape, args=(child, port, every, scrapes), daemon=True).start()
    out, err = child.communicate()
    if child.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["scrapes"] = len(scrapes)
    result["scrape_ms"] = statistics.median(scrapes) * 1000 if scrapes else 0.0
    return result


def _scrape(child: subprocess.Popen, port: int, every: float, times: list[float]) -> None:
    with httpx.Client(trust_env=False, timeout=10) as client:
        while child.poll() is None:
            started = time.perf_counter()
            try:
                client.get(f"http://127.0.0.1:{port}/metrics").raise_for_status()
                times.append(time.perf_counter() - started)
            except httpx.HTTPError:
                pass  # not serving yet, or already stopped
            time.sleep(max(0.0, every - (time.perf_counter() - started)))


def scrape_big_store(size: int, waiting: int) -> None:
    """Median time of one /metrics scrape on a store of `size` messages, `waiting` of them in the queue."""
    import warnings

    from starlette.applications import Starlette

    warnings.simplefilter("ignore")  # the TestClient-over-httpx deprecation notice
    from starlette.testclient import TestClient

    from tests.store.factories import make_messages
    from triage_tui.config import Config, InboxConfig
    from triage_tui.ops.http import ops_routes
    from triage_tui.store.db import open_url

    with tempfile.TemporaryDirectory() as tmp:
        open_url(f"sqlite:///{tmp}/big.db")
        handled = size - waiting
        for start in range(0, handled, 100_000):
            make_messages(min(100_000, handled - start), start=start, state="ticket")
        make_messages(waiting, start=handled, state="new")
        config = Config(inboxes=[InboxConfig(grant_id="grant-1", email="a@x.example")])
        client = TestClient(Starlette(routes=ops_routes(config)))
        times = []
        for _ in range(5):
            started = time.perf_counter()
            assert client.get("/metrics").status_code == 200
            times.append(time.perf_counter() - started)
        print(f"one /metrics scrape of a {size:,}-message store with {waiting:,} waiting: "
              f"median {statistics.median(times) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scrape-every", type=float, default=1.0)
    parser.add_argument("--scrape-store", type=int, default=0, help="also time a scrape of a store this big")
    parser.add_argument("--waiting", type=int, default=1000, help="messages waiting in that store's queue")
    parser.add_argument("--phase", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        variant, api_uri, db_path, port = args.phase
        print(json.dumps(phase(variant, api_uri, db_path, int(port))))
        return
    if args.runs < 1:  # only the scrape of a big store
        scrape_big_store(args.scrape_store, args.waiting)
        return
    sandbox = SandboxProcess(args.messages)
    tmp = Path(tempfile.mkdtemp(prefix="triage-metrics-bench-"))
    results: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    try:
        for run in range(args.runs):
            for variant in VARIANTS:
                results[variant].append(run_phase(variant, sandbox.api_uri, str(tmp / f"{variant}-{run}.db"),
                                                  args.scrape_every))
    finally:
        sandbox.stop()
    rate = {v: statistics.median(r["messages"] / r["seconds"] for r in results[v]) for v in VARIANTS}
    print(f"{args.messages} messages, {args.runs} interleaved runs per variant, scraped every {args.scrape_every:g}s")
    for variant in VARIANTS:
        extra = ""
        if variant == "served":
            scrapes = sum(r["scrapes"] for r in results[variant])
            extra = f"  ({scrapes} scrapes, median {statistics.median(r['scrape_ms'] for r in results[variant]):.1f} ms)"
        rates = ", ".join(f"{r['messages'] / r['seconds']:.0f}" for r in results[variant])
        print(f"{variant:13} median {rate[variant]:7.1f} msg/s  [{rates}]{extra}")
    cpu = {v: statistics.median(r["cpu_s"] / r["messages"] for r in results[v]) for v in VARIANTS}
    for variant in ("instrumented", "served"):
        cost = rate["bare"] / rate[variant] - 1
        print(f"{variant} / bare throughput: {rate[variant] / rate['bare']:.3f}  (cost {cost * 100:+.1f} %, goal < 5 %); "
              f"CPU per message {cpu[variant] * 1000:.3f} ms vs {cpu['bare'] * 1000:.3f} ms "
              f"(cost {(cpu[variant] / cpu['bare'] - 1) * 100:+.1f} %)")
    if args.scrape_store:
        scrape_big_store(args.scrape_store, args.waiting)


if __name__ == "__main__":
    main()
