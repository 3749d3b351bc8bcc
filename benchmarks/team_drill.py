"""The team drill at full size: PostgreSQL restarted under load, and SQLite with a full disk.

Run from the repo root:  .venv/bin/python -m benchmarks.team_drill [--seconds 300] [--sqlite-seconds 120] [--operators 2]

PostgreSQL (a throwaway cluster this script starts, never the shared server): 3 ingest workers,
2 sending workers, 2 Pilot consoles approving replies, the webhook receiver under signed traffic
from the sandbox, `status`/`pause`/`resume` every second, one worker SIGKILLed, `pg_ctl restart`
once. SQLite: one worker, one console, the receiver, the same runbook loop, and the database's
file system (a tmpfs this script mounts; needs root) filled up for a while.
Prints messages stored once / served, replies sent once / approved, sends while paused, CLI calls
and failures (deadlocks counted apart), and each process's reconnect time.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from tests.team.drill import Drill, DrillPlan
from tests.team.pg_cluster import ThrowawayPostgres
from tests.team.small_disk import CannotMount, SmallDisk


def postgres_drill(seconds: float, mail_per_s: float, operators: int) -> None:
    """The PostgreSQL drill, printed."""
    cluster = ThrowawayPostgres()
    try:
        with tempfile.TemporaryDirectory(prefix="triage-drill-") as tmp:
            plan = DrillPlan(db_url=cluster.url, workdir=Path(tmp), seconds=seconds, seeded=200,
                             mail_per_s=mail_per_s, restart_db=cluster.restart, restart_at=0.6,
                             kill_worker_at=0.3, settle_s=180, operators=operators)
            result = Drill(plan).run()
    finally:
        cluster.stop()
    print(f"PostgreSQL drill, {seconds:g}s: 3 ingest workers, 2 sending workers, 2 consoles, webhook receiver, "
          f"{operators} operator(s) running each of status/pause/resume every second")
    for line in result.lines():
        print("  " + line)
    for problem in result.process_errors[:5]:
        print("  problem: " + problem[:300])


def sqlite_drill(seconds: float, mail_per_s: float) -> None:
    """The SQLite drill with a full disk, printed."""
    if os.geteuid() != 0:
        print("SQLite drill skipped: mounting a small tmpfs needs root")
        return
    try:
        disk = SmallDisk(64)
    except CannotMount as exc:
        print(f"SQLite drill skipped: cannot mount a tmpfs ({exc})")
        return
    try:
        with tempfile.TemporaryDirectory(prefix="triage-drill-") as tmp:
            plan = DrillPlan(db_url=f"sqlite:///{disk.path / 'triage.db'}", workdir=Path(tmp), seconds=seconds,
                             ingest_workers=1, send_workers=0, consoles=1, seeded=100, mail_per_s=mail_per_s,
                             kill_worker_at=None, fill_disk=disk.fill, free_disk=disk.free,
                             disk_full_at=(0.35, 0.6), settle_s=120)
            drill = Drill(plan)
            result = drill.run()
    finally:
        disk.close()
    print(f"SQLite drill, {seconds:g}s: 1 worker, 1 console, webhook receiver, the disk full for a while")
    for line in result.lines():
        print("  " + line)
    full = [c for c in result.cli_failures if "out of space" in c.stderr]
    print(f"  CLI calls that said the disk is full: {len(full)}")
    if result.disk_full_pause is not None:
        print(f"  pause while full: exit {result.disk_full_pause.code}: {result.disk_full_pause.stderr.strip()[:200]}")
    for problem in result.process_errors[:5]:
        print("  problem: " + problem[:300])


def main() -> None:
    """Run both drills."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the PostgreSQL drill")
    parser.add_argument("--sqlite-seconds", type=float, default=120.0, help="length of the SQLite drill (0: skip)")
    parser.add_argument("--mail-per-s", type=float, default=3.0, help="signed inbound mail per second")
    parser.add_argument("--operators", type=int, default=2,
                        help="runbook loops per command, each running it every second")
    args = parser.parse_args()
    if args.seconds > 0:
        postgres_drill(args.seconds, args.mail_per_s, args.operators)
    if args.sqlite_seconds > 0:
        sqlite_drill(args.sqlite_seconds, args.mail_per_s)


if __name__ == "__main__":
    main()
