"""Full-count crash campaigns for tracker writes: SIGKILL at every step x 20 runs, lost responses, blind control.

Run from the repo root:  .venv/bin/python -m benchmarks.tracker_crash [--runs 20] [--tickets 2] [--kinds ...]

For every tracker: at each crash point (after the claim, after the write started, after the HTTP call,
after the record) `runs` runs of `tickets` tickets (a create and a comment each); the first dispatcher
child of a run always dies at the point, restarts die there with `--probability`. Then `runs` runs
where the fake loses the create's response after the write landed. Then the negative control: the
same kill after the HTTP call, dispatching blind (no look-up, fresh keys). Counts lost writes and
duplicate items/comments in the fake.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from triage_tui.outbound.tracker_dispatch import POINTS
from triage_tui.sandbox.trackers.runner import start_tracker_fake
from triage_tui.store.db import open_url
from triage_tui.store.models import database
from tests.trackers.crash import HEADER, run_campaign
from tests.trackers.helpers import ENV, KINDS, make_config, tracker_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--tickets", type=int, default=2)
    parser.add_argument("--probability", type=float, default=0.5)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--db-url", default="", help="A PostgreSQL URL to use instead of a temporary SQLite file.")
    args = parser.parse_args()
    results, controls = [], []
    print(HEADER, flush=True)
    for kind in args.kinds.split(","):
        fake = start_tracker_fake(kind, enforce_limits=False)
        os.environ[ENV[kind]] = fake.token
        with tempfile.TemporaryDirectory() as tmp:
            url = args.db_url or f"sqlite:///{Path(tmp) / 'crash.db'}"
            open_url(url)
            config = make_config(url, trackers={"t": tracker_settings(kind, fake)}, default="t",
                                 max_backoff_s=1.0, max_unknown_attempts=1000)
            try:
                for point in (*POINTS, "lost"):
                    run = run_campaign(config, fake, point, runs=args.runs, tickets=args.tickets,
                                       probability=args.probability, max_restarts=60)
                    results.append(run)
                    print(run.row(), flush=True)
                control = run_campaign(config, fake, "tracker_after_http", runs=args.runs, tickets=args.tickets,
                                       probability=args.probability, blind=True, max_restarts=60)
                controls.append(control)
                print(control.row(), flush=True)
            finally:
                database.close()
                fake.stop()
    writes = sum(r.tickets * 2 for r in results)
    dups = sum(r.duplicate_items + r.duplicate_comments for r in results)
    print(f"\nwith reconciliation: {sum(r.kills for r in results)} kills, {writes} writes, "
          f"{sum(r.lost for r in results)} lost, {dups} duplicates")
    for control in controls:
        print(f"negative control {control.kind}: {control.kills} kills, "
              f"{control.duplicate_items} duplicate items, {control.duplicate_comments} duplicate comments "
              f"of {control.tickets} tickets")


if __name__ == "__main__":
    main()
