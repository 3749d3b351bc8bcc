"""K-1 at full size: N approved replies, C dispatcher threads, the stop switch flipped at a random moment.

Run from the repo root:  /work/venv/bin/python -m benchmarks.outbound_stop_switch [--replies 500]
Prints, for the real dispatcher and for a naive baseline that reads the switch only when claiming:
sends started after the flip committed (commit order in the audit trail), HTTP sends begun after the
flip returned (wall clock), deliveries while paused for 10 simulated minutes after a restart, and
deliveries after resume (each reply exactly once).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from triage_tui.outbound.claims import claim_next, finish
from triage_tui.outbound.dispatcher import DispatchReport, _reply, outbound_headers, refusal
from triage_tui.sandbox.runner import start_sandbox
from triage_tui.sandbox.state import SandboxOptions
from triage_tui.store.db import open_url
from tests.outbound.helpers import make_config
from tests.outbound.scenarios import default_gateway, run_stop_switch


class TimedGateway:
    """Records when each HTTP send begins (monotonic), then sends for real."""

    def __init__(self, gateway, starts: list[float]) -> None:
        self.gateway, self.config, self.starts = gateway, gateway.config, starts
        self._lock = threading.Lock()

    def send_reply(self, reply, **kw):
        with self._lock:
            self.starts.append(time.monotonic())
        return self.gateway.send_reply(reply, **kw)


def naive_dispatch(config, gateway, *, owner, now=None, max_entries=5) -> DispatchReport:
    """Baseline: the switch is read only in the claim transaction, never again before the HTTP call."""
    report = DispatchReport()
    for _ in range(max_entries):
        claim, switch_on = claim_next(config, owner, time.time())
        if claim is None:
            report.switch_on = switch_on
            break
        report.claimed += 1
        if refusal(config, claim):  # the same pre-send checks as the dispatcher, minus the switch re-read
            continue
        result = gateway.send_reply(_reply(claim), idempotency_key=claim.row.command_result_id,
                                    custom_headers=outbound_headers(claim))
        report.sent += finish(claim, time.time(), "outbox.sent", from_states=("claimed",), state="sent",
                              sent_at=time.time(), sent_message_id=result.message_id, lease_owner="")
    return report


def one_run(label: str, replies: int, workers: int, seed: int, latency_ms: int, db_url: str | None,
            dispatch=None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        if db_url:
            import psycopg2

            conn = psycopg2.connect(db_url)
            conn.autocommit = True
            conn.cursor().execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
            conn.close()
        open_url(url)
        sandbox = start_sandbox(SandboxOptions(seed=seed, messages=0, faults={"latency_ms": latency_ms}))
        try:
            config = make_config(url, api_uri=sandbox.api_uri, grant_id=sandbox.grant_id, email=sandbox.email,
                                 daily_cap_per_grant=1_000_000, per_recipient_per_hour=1_000)
            starts: list[float] = []
            flip: list[float] = []
            kwargs = {"dispatch": dispatch} if dispatch else {}
            run = run_stop_switch(
                config, sandbox, replies=replies, workers=workers, seed=seed,
                gateway_factory=lambda c, s: TimedGateway(default_gateway(c, s), starts),
                on_flip=lambda: flip.append(time.monotonic()), progress=lambda: len(starts), **kwargs)
            after = sum(1 for t in starts if flip and t > flip[0])
        finally:
            sandbox.stop()
    figures = {
        "run": label, "replies": replies, "workers": workers,
        "send_started_after_flip_commit": run.started_after_flip,
        "http_begun_after_flip_returned": after,
        "started_before_flip": run.started_before_flip,
        "delivered_while_paused_10min": run.delivered_while_paused,
        "delivered_total": run.delivered_total, "duplicates": run.duplicates,
        "flip_after_s": round(run.flip_after_s, 3), "seconds": round(run.seconds, 1),
        "errors": len(run.errors),
    }
    print(figures, flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=500)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--db-url", default=None, help="PostgreSQL URL (its public schema is wiped)")
    args = parser.parse_args()
    ours, naive = [], []
    for seed in range(args.runs):
        ours.append(one_run("dispatcher", args.replies, args.workers, seed, args.latency_ms, args.db_url))
        naive.append(one_run("naive-baseline", args.replies, args.workers, seed, args.latency_ms, args.db_url,
                             dispatch=naive_dispatch))
    ours_after = sum(f["http_begun_after_flip_returned"] for f in ours)
    naive_after = sum(f["http_begun_after_flip_returned"] for f in naive)
    print(f"\nsends started after the flip committed (audit commit order): "
          f"{sum(f['send_started_after_flip_commit'] for f in ours)} over {args.runs} runs")
    print(f"HTTP sends begun after the flip returned: dispatcher {ours_after}, naive baseline {naive_after} "
          f"(ratio dispatcher/naive = {ours_after / naive_after if naive_after else float('nan'):.2f})")
    print(f"deliveries while paused 10 simulated min: {sum(f['delivered_while_paused_10min'] for f in ours)}; "
          f"after resume delivered {sum(f['delivered_total'] for f in ours)} of {args.replies * args.runs}, "
          f"duplicates {sum(f['duplicates'] for f in ours)}")


if __name__ == "__main__":
    main()
