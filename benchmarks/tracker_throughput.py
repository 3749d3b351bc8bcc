"""500 tracker writes against each fake with 100 ms latency and its documented rate limit.

Run from the repo root:  .venv/bin/python -m benchmarks.tracker_throughput [--writes 500] [--time-scale 1] [--kinds ...]

For each tracker, in its own fake process (latency and the documented limits enforced):
- baseline: one request per ticket, sequentially, straight through the adapter (no outbox, no pacing),
  sleeping for Retry-After whenever the fake says so;
- triage-tui: the same tickets queued in the tracker outbox (SQLite) and written by the TrackerDispatcher
  threads (`max_in_flight` per tracker, pacing and Retry-After honoured), every write leased, fenced,
  audited and recorded.
The documented windows (GitHub: 80 creates/min and 500/h; Zendesk: 700 requests/min; Linear: 2,500
requests/h; Jira: a burst limit whose figure Atlassian does not publish, 20 writes/s here; the webhook
receiver: none) run `--time-scale` times faster so a run ends in minutes; both sides face the same limit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._support import ROOT, child_env, free_port, wait_port
from triage_tui.domain import TrackerOp
from triage_tui.outbound.tracker_dispatch import TrackerDispatcher
from triage_tui.store.db import connection, open_url
from triage_tui.store.models import TrackerWriteRow, database
from triage_tui.store.tracker_writes import enqueue_create, link_back
from triage_tui.trackers.base import TrackerError
from triage_tui.trackers.registry import build_tracker
from tests.trackers.helpers import ENV, facts, make_config, request, tracker_settings

IN_FLIGHT = {"github": 1, "jira": 4, "linear": 4, "zendesk": 4, "webhook": 4}


class FakeProcess:
    """A fake tracker in a child process (its own GIL), with latency and scaled limits."""

    def __init__(self, kind: str, latency_ms: float, time_scale: float) -> None:
        self.kind = kind
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "triage_tui.sandbox.trackers.runner", kind, "--port", str(self.port),
             "--latency-ms", str(latency_ms), "--time-scale", str(time_scale)],
            cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        info = json.loads(self.process.stdout.readline())
        wait_port(self.port)
        self.url, self.token = info["url"], info["token"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def settings(kind: str, fake: FakeProcess, time_scale: float, naive: bool = False) -> dict:
    extra = {"max_in_flight": IN_FLIGHT[kind], "timeout_s": 30.0}
    if kind == "github" and not naive:  # GitHub asks for serial writes at least 1 s apart: scaled like its limits
        extra["min_interval_s"] = 1.0 / time_scale
    return tracker_settings(kind, fake, **extra)


def baseline(config, writes: int) -> tuple[float, int]:
    """Sequential, one request per ticket, honouring Retry-After; (seconds, rate-limit answers)."""
    tracker = build_tracker(config, "t")
    limited = 0
    started = time.monotonic()
    for i in range(writes):
        f = facts(f"TKT-base-{i}")
        req = request(TrackerOp.CREATE, {**f.model_dump(mode="json"), "link": link_back(config, f)})
        while True:
            try:
                tracker.write(req)
                break
            except TrackerError as exc:
                if exc.kind != "rate_limited":
                    raise
                limited += 1
                time.sleep(exc.retry_after or 1.0)
    seconds = time.monotonic() - started
    tracker.close()
    return seconds, limited


def ours(config, writes: int, db_url: str) -> tuple[float, int, int]:
    """The outbox and dispatcher threads; (seconds, rate-limit answers, writes done)."""
    for i in range(writes):
        enqueue_create(config, facts(f"TKT-ours-{i}"), actor="bench")
    dispatcher = TrackerDispatcher(config, owner="bench")
    started = time.monotonic()
    dispatcher.start()
    done = 0
    with connection():
        while time.monotonic() - started < 3600:
            done = TrackerWriteRow.select().where(TrackerWriteRow.state == "done").count()
            if done >= writes:
                break
            time.sleep(0.05)
    seconds = time.monotonic() - started
    dispatcher.stop(timeout=30)
    with connection():
        limited = TrackerWriteRow.select().where(TrackerWriteRow.error_kind == "rate_limited").count()
    return seconds, limited, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--kinds", default="github,jira,linear,zendesk,webhook")
    args = parser.parse_args()
    rows = []
    for kind in args.kinds.split(","):
        fake = FakeProcess(kind, args.latency_ms, args.time_scale)
        os.environ[ENV[kind]] = fake.token
        try:
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{Path(tmp) / 'bench.db'}"
                open_url(url)
                config = make_config(url, trackers={"t": settings(kind, fake, args.time_scale, naive=True)},
                                     default="t", lease_s=600, max_backoff_s=60.0)
                base_s, base_limited = baseline(config, args.writes)
                fake.stop()
                fake = FakeProcess(kind, args.latency_ms, args.time_scale)  # fresh limit windows
                os.environ[ENV[kind]] = fake.token
                config = make_config(url, trackers={"t": settings(kind, fake, args.time_scale)}, default="t",
                                     lease_s=600, max_backoff_s=60.0)
                ours_s, ours_limited, done = ours(config, args.writes, url)
                database.close()
        finally:
            fake.stop()
        row = (kind, IN_FLIGHT[kind], args.writes / base_s, base_limited, done / ours_s, ours_limited, done,
               (done / ours_s) / (args.writes / base_s))
        rows.append(row)
        print("%-8s in_flight=%d baseline %.2f w/s (%d limited)  triage-tui %.2f w/s (%d limited, %d done)  "
              "ratio %.2f" % row, flush=True)
    print(f"\n{args.writes} creates per tracker, {args.latency_ms:g} ms latency, limits x{args.time_scale:g} faster")
    print("tracker  in_flight baseline_w/s baseline_429 ours_w/s ours_429 done ratio")
    for r in rows:
        print(f"{r[0]:<8} {r[1]:>9} {r[2]:>12.2f} {r[3]:>12} {r[4]:>8.2f} {r[5]:>8} {r[6]:>4} {r[7]:>5.2f}")


if __name__ == "__main__":
    main()
