"""Gateway paging throughput against the sandbox, compared with the bare SDK in the same run.

Run by hand from the repo root: python -m benchmarks.gateway_paging [--messages 1000] [--rounds 3]
Prints messages per second for: the bare SDK list loop (baseline), the gateway (retries, rate cap,
normalisation), the SDK's HTTP layer without model decoding, normalisation alone, and the
gateway/baseline ratio.
"""

from __future__ import annotations

import argparse
import time

import nylas

from triage_tui.config import NylasConfig
from triage_tui.nylas.gateway import Gateway
from triage_tui.nylas.normalize import normalize_message
from triage_tui.sandbox.runner import start_sandbox
from triage_tui.sandbox.state import SandboxOptions


def bare_sdk(client: nylas.Client, grant_id: str) -> list:
    """Every message via the SDK's own list call, following next_cursor."""
    out, cursor = [], None
    while True:
        params = {"limit": 200, "fields": "include_headers"}
        if cursor:
            params["page_token"] = cursor
        response = client.messages.list(grant_id, query_params=params)
        out += response.data
        cursor = response.next_cursor
        if not cursor:
            return out


def raw_json(client: nylas.Client, grant_id: str) -> int:
    """Count messages via the SDK's HTTP layer without model decoding (shows the decode cost)."""
    count, cursor = 0, None
    while True:
        params = {"limit": 200, "fields": "include_headers"}
        if cursor:
            params["page_token"] = cursor
        payload, _headers = client.http_client._execute("GET", f"/v3/grants/{grant_id}/messages",
                                                        query_params=params)
        count += len(payload["data"])
        cursor = payload.get("next_cursor")
        if not cursor:
            return count


def best_rate(run, rounds: int) -> tuple[float, int]:
    best, count = 0.0, 0
    for _ in range(rounds):
        started = time.perf_counter()
        count = run()
        best = max(best, count / (time.perf_counter() - started))
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with start_sandbox(SandboxOptions(seed=7, messages=args.messages)) as sandbox:
        client = nylas.Client(sandbox.api_key, api_uri=sandbox.api_uri)
        gateway = Gateway(NylasConfig(api_uri=sandbox.api_uri, max_requests_per_s=10_000), sandbox.api_key)
        raw = bare_sdk(client, sandbox.grant_id)
        sdk_rate, sdk_count = best_rate(lambda: len(bare_sdk(client, sandbox.grant_id)), args.rounds)
        gw_rate, gw_count = best_rate(
            lambda: sum(len(p.messages) for p in gateway.iter_message_pages(
                sandbox.grant_id, page_limit=200, max_pages=10_000)), args.rounds)
        raw_rate, _ = best_rate(lambda: raw_json(client, sandbox.grant_id), args.rounds)
        norm_rate, _ = best_rate(lambda: len([normalize_message(m, sandbox.grant_id) for m in raw]), args.rounds)
    print(f"messages in mailbox          : {sdk_count} (gateway saw {gw_count})")
    print(f"bare SDK list (baseline)     : {sdk_rate:8.0f} messages/s")
    print(f"gateway iter_message_pages   : {gw_rate:8.0f} messages/s")
    print(f"SDK HTTP layer, no decoding  : {raw_rate:8.0f} messages/s")
    print(f"normalise only (no HTTP)     : {norm_rate:8.0f} messages/s")
    print(f"gateway / bare SDK ratio     : {gw_rate / sdk_rate:8.2f}")


if __name__ == "__main__":
    main()
