"""Message GETs per second from the sandbox, against a trivial Starlette baseline in the same run.

Run by hand: /work/venv/bin/python benchmarks/sandbox_api.py [--seconds 3] [--rounds 3]
Both servers run under uvicorn in their own subprocess on 127.0.0.1 (port 0); the client is a
small asyncio HTTP/1.1 keep-alive loop so the client is not what gets measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "bench-key"
GRANT = "bench-grant"

BASELINE = r"""
import socket, sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
BODY = b'{"request_id":"x","data":{"id":"constant","object":"message"}}'
async def constant(request):
    return Response(BODY, media_type="application/json")
app = Starlette(routes=[Route("/v3/grants/{grant_id}/messages/{message_id}", constant)])
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
sock.bind(("127.0.0.1", 0)); sock.listen(2048)
print(f"api_uri:  http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")).run(sockets=[sock])
"""


def start(argv: list[str]) -> tuple[subprocess.Popen, str]:
    """Start a server subprocess and read its api_uri from stdout."""
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": ROOT})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        found = re.search(r"api_uri:\s+(http://[\d.]+:\d+)", line)
        if found:
            return proc, found.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(f"server did not start: {argv}")


async def _worker(host: str, port: int, paths: list[str], stop_at: float, budget: list[int],
                  counts: dict) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while time.perf_counter() < stop_at and budget[0] > 0:
            budget[0] -= 1
            path = paths[i % len(paths)]
            i += 1
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
                         f"Authorization: Bearer {KEY}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
            await reader.readexactly(length)
            counts[status] = counts.get(status, 0) + 1
    finally:
        writer.close()


async def hammer(api_uri: str, paths: list[str], seconds: float, concurrency: int,
                 max_requests: int) -> tuple[float, dict]:
    """Requests per second over `seconds` (or `max_requests`) from `concurrency` connections."""
    host, port = api_uri.removeprefix("http://").split(":")
    counts: dict = {}
    budget = [max_requests]
    started = time.perf_counter()
    await asyncio.gather(*(_worker(host, int(port), paths, started + seconds, budget, counts)
                           for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return sum(counts.values()) / elapsed, counts


def message_paths(api_uri: str) -> list[str]:
    """Paths of every message in the sandbox's mailbox (paged through the API)."""
    import httpx

    paths, token = [], None
    with httpx.Client(base_url=api_uri, headers={"Authorization": f"Bearer {KEY}"},
                      trust_env=False) as client:
        while True:
            body = client.get(f"/v3/grants/{GRANT}/messages",
                              params={"limit": 200, **({"page_token": token} if token else {})}
                              ).json()
            paths += [f"/v3/grants/{GRANT}/messages/{m['id']}" for m in body["data"]]
            token = body.get("next_cursor")
            if not token:
                return paths


def main() -> None:
    """Run both servers, measure, print figures and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()

    sandbox, sandbox_uri = start([sys.executable, "-m", "triage_tui.cli", "sandbox", "--port", "0",
                                  "--api-key", KEY, "--grant-id", GRANT,
                                  "--messages", str(args.messages)])
    baseline, baseline_uri = start([sys.executable, "-c", BASELINE])
    try:
        paths = message_paths(sandbox_uri)
        # the 1 MB seeded body would measure the network copy, not the server: skip bodies > 64 kB
        import httpx
        sizes = {p: len(httpx.get(sandbox_uri + p, headers={"Authorization": f"Bearer {KEY}"},
                                  trust_env=False).content) for p in paths}
        small = [p for p in paths if sizes[p] <= 65_536]
        print(f"sandbox {sandbox_uri}: {len(paths)} messages, GETting {len(small)} "
              f"(median {sorted(sizes.values())[len(sizes) // 2]} bytes); "
              f"{args.concurrency} connections, {args.rounds} rounds of {args.seconds:g} s each")
        asyncio.run(hammer(baseline_uri, ["/v3/grants/g/messages/m"], 0.5, 4, 2000))  # warm up
        base_rates, rates = [], []
        for round_no in range(1, args.rounds + 1):  # alternate, so load from others hits both
            base_rate, base_counts = asyncio.run(hammer(
                baseline_uri, ["/v3/grants/g/messages/m"], args.seconds, args.concurrency,
                args.max_requests))
            rate, counts = asyncio.run(hammer(sandbox_uri, small, args.seconds, args.concurrency,
                                              args.max_requests))
            base_rates.append(base_rate)
            rates.append(rate)
            print(f"round {round_no}: baseline {base_rate:7.0f} GET/s {base_counts}   "
                  f"sandbox {rate:7.0f} GET/s {counts}")
        base_rate, rate = statistics.median(base_rates), statistics.median(rates)
        print(f"baseline (constant JSON, Starlette+uvicorn), median: {base_rate:8.0f} GET/s")
        print(f"sandbox  (message GET, auth, JSON envelope), median: {rate:8.0f} GET/s")
        print(f"ratio sandbox/baseline: {rate / base_rate:.2f}   goal >= 1000 GET/s: "
              f"{'met' if rate >= 1000 else 'NOT met'}")
        print(json.dumps({"sandbox_get_per_s": round(rate), "baseline_get_per_s": round(base_rate),
                          "ratio": round(rate / base_rate, 3)}))
    finally:
        for proc in (sandbox, baseline):
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == "__main__":
    main()
