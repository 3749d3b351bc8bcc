"""C-1 at full size: SIGKILL dispatcher processes at each named point of the send path.

Run from the repo root:  /work/venv/bin/python -m benchmarks.outbound_crash [--runs 20]
For every point: `runs` runs of `replies` approved replies, dispatcher subprocesses restarted until every
reply is out; counts lost replies and duplicate deliveries in the sandbox's Sent folder, and provider calls
absorbed by the Idempotency-Key. The negative control sends with a fresh key per attempt and must duplicate.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from triage_tui.outbound.faults import POINTS
from triage_tui.sandbox.runner import start_sandbox
from triage_tui.sandbox.state import SandboxOptions
from triage_tui.store.db import open_url
from tests.outbound.helpers import make_config
from tests.outbound.scenarios import run_crash_point, write_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--replies", type=int, default=3)
    parser.add_argument("--probability", type=float, default=0.5)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'crash.db'}"
        open_url(url)
        sandbox = start_sandbox(SandboxOptions(seed=1, messages=0))
        try:
            config = make_config(url, api_uri=sandbox.api_uri, grant_id=sandbox.grant_id, email=sandbox.email,
                                 daily_cap_per_grant=1_000_000, per_recipient_per_hour=1_000)
            path = write_config(Path(tmp) / "config.toml", config)
            for point in POINTS:
                run = run_crash_point(config, sandbox, path, point, runs=args.runs, replies=args.replies,
                                      probability=args.probability)
                results.append(run)
                print(run, flush=True)
            control = run_crash_point(config, sandbox, path, "after_http", runs=args.runs, replies=args.replies,
                                      probability=args.probability, keyless=True)
            print(control, flush=True)
        finally:
            sandbox.stop()
    print("\npoint                 runs replies kills lost dup provider_calls absorbed seconds")
    for run in [*results, control]:
        print(f"{run.point:<21} {run.runs:>4} {run.replies:>7} {run.kills:>5} {run.lost:>4} {run.duplicates:>3} "
              f"{run.provider_sends:>14} {run.provider_sends - run.delivered:>8} {run.seconds:>7.1f}")
    with_key = sum(r.duplicates for r in results)
    print(f"\nduplicate deliveries: with Idempotency-Key {with_key} of {sum(r.replies for r in results)}; "
          f"negative control {control.duplicates} of {control.replies} "
          f"(control/keyed = {control.duplicates / with_key if with_key else float('inf')})")
    print(f"lost: {sum(r.lost for r in results)}; kills: {sum(r.kills for r in results)}")


if __name__ == "__main__":
    main()
