"""Crash test at full size: `worker --once` SIGKILLed at random points 25 times while ingesting.

Run by hand:  /work/venv/bin/python benchmarks/ingest_crash.py [--kills 25] [--messages 2500]

Prints kills, lost and duplicated messages, the max suggestions per message and PRAGMA
integrity_check. The baseline in the same run is one uninterrupted `worker --once` of the same
mailbox into a fresh database (time to compare the crash-and-resume total against).
"""

from __future__ import annotations

import argparse
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._support import API_KEY, ROOT, SandboxProcess, child_env, config_toml  # noqa: E402


def worker_once(config: Path, kill_after: float | None) -> tuple[bool, float]:
    """Run `worker --once`, SIGKILL after kill_after seconds; returns (killed, seconds)."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "triage_tui.cli", "--config", str(config), "worker", "--once"],
                               cwd=ROOT, env=child_env(NYLAS_API_KEY=API_KEY), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        process.wait(kill_after)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True, time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"worker failed: {process.stderr.read().decode()[-2000:]}")
    return False, time.monotonic() - started


def rows(db_path: Path) -> int:
    """Messages stored so far (0 before the first run created the file)."""
    if not db_path.exists():
        return 0
    with sqlite3.connect(db_path, timeout=30) as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=25)
    parser.add_argument("--messages", type=int, default=2500)
    parser.add_argument("--latency-ms", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--min-kill-s", type=float, default=1.5)
    parser.add_argument("--max-kill-s", type=float, default=5.0)
    args = parser.parse_args()
    sandbox = SandboxProcess(args.messages, latency_ms=args.latency_ms)
    tmp = Path(tempfile.mkdtemp(prefix="triage-crash-"))
    extra = "[worker]\npage_limit = 20\nmax_pages_per_poll = 3\n"
    try:
        truth = set(sandbox.truth())
        base_cfg = tmp / "base.toml"
        base_cfg.write_text(config_toml(sandbox.api_uri, f"sqlite:///{tmp / 'base.db'}", chain='["rules"]',
                                        extra=extra))
        _, base_s = worker_once(base_cfg, None)
        crash_cfg = tmp / "crash.toml"
        db_path = tmp / "crash.db"
        crash_cfg.write_text(config_toml(sandbox.api_uri, f"sqlite:///{db_path}", chain='["rules"]', extra=extra))
        rng = random.Random(args.seed)
        kills, mid_ingest, total = 0, 0, 0.0
        for _ in range(args.kills):
            before = rows(db_path)
            killed, seconds = worker_once(crash_cfg, rng.uniform(args.min_kill_s, args.max_kill_s))
            kills += killed
            mid_ingest += killed and len(truth) > rows(db_path) > before
            total += seconds
        _, seconds = worker_once(crash_cfg, None)
        total += seconds
    finally:
        sandbox.stop()
    with sqlite3.connect(db_path) as conn:
        stored = [r[0] for r in conn.execute("SELECT message_id FROM messages")]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        most = conn.execute("SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) n FROM suggestions "
                            "GROUP BY message_id)").fetchone()[0]
        bodies = conn.execute("SELECT COUNT(*) FROM message_bodies").fetchone()[0]
    lost = len(truth - set(stored))
    duplicated = len(stored) - len(set(stored))
    print(f"{len(truth)} seeded messages, {args.latency_ms} ms API latency, SQLite WAL synchronous=NORMAL")
    print(f"baseline: one uninterrupted worker --once in {base_s:.1f}s")
    print(f"{args.kills} runs with a SIGKILL after {args.min_kill_s:g}-{args.max_kill_s:g}s: {kills} killed, "
          f"{mid_ingest} of them while rows were being written; + 1 final run: {total:.1f}s in all "
          f"({total / base_s:.1f}x the baseline)")
    print(f"lost {lost}, duplicated {duplicated}, rows {len(stored)}, bodies {bodies}, "
          f"max suggestions per message {most}, integrity_check {integrity}")
    print("PASS" if lost == 0 and duplicated == 0 and integrity == "ok" and most <= 1 and bodies == len(stored)
          else "FAIL")


if __name__ == "__main__":
    main()
