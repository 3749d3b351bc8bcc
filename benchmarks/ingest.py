"""Ingest throughput: the pipeline vs the naive recipe, with 50 ms on every API call, and with none.

Run by hand:  /work/venv/bin/python benchmarks/ingest.py [--messages 2000] [--naive-count 2000]

The naive recipe is what one-webhook-at-a-time code does: for each message id, GET the message,
GET its thread, insert one row, commit. The pipeline lists pages with headers (no per-message
GET), lists threads once per sweep, reads rule evaluations once per page and writes each page in
one IMMEDIATE transaction. Each phase runs in its own child process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._support import API_KEY, GRANT, ROOT, SandboxProcess, child_env  # noqa: E402


def _warm_up(classifier) -> None:
    """Import and initialise everything a first message needs, outside the timed run."""
    from datetime import datetime, timezone

    from triage_tui.domain import Address, InboundMessage

    classifier.classify(InboundMessage(grant_id=GRANT, message_id="warm", subject="Invoice wrong",
                                       sender=Address(email="a@b.example"), body_text="refund",
                                       received_at=datetime.now(timezone.utc)))


def _time_listing(gateway, config) -> float:
    """Seconds the gateway alone needs to list every page with headers (SDK decoding included)."""
    started = time.monotonic()
    for _page in gateway.iter_message_pages(GRANT, page_limit=config.worker.page_limit, max_pages=10_000):
        pass
    return time.monotonic() - started


def phase_pipeline(api_uri: str, db_path: str, chain: str, page_limit: str, measure_listing: bool = False) -> dict:
    """`sync_once` over the whole mailbox; classifier time measured separately."""
    from triage_tui.config import parse_config
    from triage_tui.ingest.runner import build_default_classifier, sync_once
    from triage_tui.nylas.gateway import Gateway
    from triage_tui.store.db import open_database
    from benchmarks._support import config_toml

    config = parse_config(config_toml(api_uri, f"sqlite:///{db_path}", chain=chain,
                                      extra=f"[worker]\npage_limit = {page_limit}\n"))
    open_database(config.database)
    gateway = Gateway(config.nylas, API_KEY)
    classifier = _Timed(build_default_classifier(config))
    _warm_up(classifier.inner)
    started = time.monotonic()
    list_s = _time_listing(gateway, config) if measure_listing else 0.0
    started = time.monotonic()
    report = sync_once(config, gateway=gateway, classifier=classifier)
    seconds = time.monotonic() - started - report.upgrade_seconds  # ingest: every message stored and suggested
    quick = classifier.quick_timed
    return {"messages": report.stored, "seconds": seconds, "requests": gateway.stats.requests,
            "list_s": list_s, "upgraded": report.upgraded, "upgrade_s": report.upgrade_seconds,
            "classify_s": quick.seconds if quick else classifier.seconds, "failed": report.failed,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def phase_naive(api_uri: str, db_path: str, ids: list[str]) -> dict:
    """One message at a time: GET message, GET thread, insert, commit."""
    from triage_tui.config import parse_config
    from triage_tui.nylas.gateway import Gateway
    from triage_tui.store.db import open_database, write_transaction
    from triage_tui.store.models import MessageBody, MessageRow
    from triage_tui.store.text import db_safe, to_epoch
    from benchmarks._support import config_toml

    config = parse_config(config_toml(api_uri, f"sqlite:///{db_path}"))
    open_database(config.database)
    gateway = Gateway(config.nylas, API_KEY)
    started = time.monotonic()
    for message_id in ids:
        message = gateway.get_message(GRANT, message_id)
        gateway.get_thread(GRANT, message.thread_id)
        now = time.time()
        with write_transaction():
            row = MessageRow.create(
                tenant_id="bench", environment="test", grant_id=GRANT, message_id=message.message_id,
                thread_id=message.thread_id, subject=db_safe(message.subject),
                sender_email=db_safe(message.sender.email)[:255], received_at=to_epoch(message.received_at),
                created_at=now, updated_at=now)
            MessageBody.create(message=row, body_text=db_safe(message.body_text))
    seconds = time.monotonic() - started
    return {"messages": len(ids), "seconds": seconds, "requests": gateway.stats.requests,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


class _Timed:
    """The real classifier with its time added up (its quick chain's, used by ingest, apart)."""

    def __init__(self, inner) -> None:
        self.inner, self.seconds, self.name = inner, 0.0, inner.name
        self.quick_timed: _Timed | None = None

    def quick(self):
        """The chain without embed, timed on its own: what ingest suggests with."""
        quick = getattr(self.inner, "quick", lambda: None)()
        self.quick_timed = _Timed(quick) if quick is not None else None
        return self.quick_timed

    @property
    def version(self) -> str:
        return self.inner.version

    def classify(self, message):
        started = time.perf_counter()
        try:
            return self.inner.classify(message)
        finally:
            self.seconds += time.perf_counter() - started

    def prepare_batch(self, messages):
        """The embed classifier embeds a page at once; its time counts as classifier time."""
        started = time.perf_counter()
        try:
            getattr(self.inner, "prepare_batch", lambda _messages: None)(messages)
        finally:
            self.seconds += time.perf_counter() - started


def run_phase(*args: str) -> dict:
    """Run one phase in a child process and return its JSON result."""
    out = subprocess.run([sys.executable, __file__, "--phase", *args], cwd=ROOT, env=child_env(),
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"phase {args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--naive-count", type=int, default=2000, help="messages for the naive recipe")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--chain", default='["learned", "rules"]', help="classifier chain (TOML list)")
    parser.add_argument("--page-limit", type=int, default=200, help="[worker] page_limit for the pipeline")
    parser.add_argument("--phase", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        kind, api_uri, db_path, rest = args.phase[0], args.phase[1], args.phase[2], args.phase[3:]
        if kind == "pipeline":
            print(json.dumps(phase_pipeline(api_uri, db_path, rest[0], rest[1], measure_listing=len(rest) > 2)))
        else:
            print(json.dumps(phase_naive(api_uri, db_path, json.loads(Path(rest[0]).read_text()))))
        return
    from triage_tui.config import NylasConfig

    cap = NylasConfig().max_requests_per_s
    sandbox = SandboxProcess(args.messages, latency_ms=args.latency_ms)
    tmp = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    try:
        truth = sandbox.truth()
        ids = sorted(truth)[: args.naive_count]
        (tmp / "ids.json").write_text(json.dumps(ids))
        print(f"sandbox: {len(truth)} messages, {args.latency_ms} ms added to every API call; "
              f"request cap {cap:g}/s (config default); classifier chain {args.chain}; page_limit {args.page_limit}")
        piped = run_phase("pipeline", sandbox.api_uri, str(tmp / "pipe.db"), args.chain, str(args.page_limit))
        naive = run_phase("naive", sandbox.api_uri, str(tmp / "naive.db"), str(tmp / "ids.json"))
        sandbox.set_faults(latency_ms=0)
        fast = run_phase("pipeline", sandbox.api_uri, str(tmp / "fast.db"), args.chain, str(args.page_limit), "list")
    finally:
        sandbox.stop()
    rows = [(f"pipeline, {args.latency_ms} ms latency", piped), (f"naive, {args.latency_ms} ms latency", naive),
            ("pipeline, no latency", fast)]
    print(f"{'run':28} {'msgs':>6} {'secs':>7} {'msg/s':>8} {'requests':>9} {'req/s':>7} {'classify s':>10} "
          f"{'peak RSS MB':>11}")
    for name, r in rows:
        rate = r["messages"] / r["seconds"]
        print(f"{name:28} {r['messages']:>6} {r['seconds']:>7.2f} {rate:>8.1f} {r['requests']:>9} "
              f"{r['requests'] / r['seconds']:>7.1f} {r.get('classify_s', 0):>10.2f} {r['peak_rss_mb']:>11.0f}")
    ratio = (piped["messages"] / piped["seconds"]) / (naive["messages"] / naive["seconds"])
    print(f"pipeline / naive with latency: {ratio:.1f}x (goal >= 15x)")
    for name, r in rows[::2]:
        if r.get("upgraded"):
            print(f"  {name}: then {r['upgraded']} provisional suggestions upgraded by the whole chain in "
                  f"{r['upgrade_s']:.2f}s ({r['upgraded'] / max(1e-9, r['upgrade_s']):.0f} msg/s), once ingest "
                  f"was caught up")
    fast_rate = fast["messages"] / fast["seconds"]
    without_classifier = fast["messages"] / max(1e-9, fast["seconds"] - fast["classify_s"])
    print(f"pipeline without latency: {fast_rate:.0f} msg/s (goal >= 300); "
          f"{without_classifier:.0f} msg/s excluding classifier time ({fast['classify_s']:.2f}s)")
    own = fast["seconds"] - fast["classify_s"] - fast["list_s"]
    print(f"  of which: listing pages through the SDK alone {fast['list_s']:.2f}s "
          f"({fast['messages'] / max(1e-9, fast['list_s']):.0f} msg/s); classifier {fast['classify_s']:.2f}s; "
          f"signals + store + the rest {own:.2f}s ({fast['messages'] / max(1e-9, own):.0f} msg/s)")
    over_cap = [name for name, r in rows if r["requests"] / r["seconds"] > cap + 0.5]
    print("request rate within the cap in every run" if not over_cap else f"over the cap: {over_cap}")


if __name__ == "__main__":
    main()
