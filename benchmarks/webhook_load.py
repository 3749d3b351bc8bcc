"""Webhook receiver under load on loopback: ack latency p50/p99/max and errors at a fixed request rate.

Run by hand:  /work/venv/bin/python benchmarks/webhook_load.py [--rate 500] [--seconds 10]

`triage-tui webhook` runs in its own process on a SQLite file; a bounded open-loop generator
(plain asyncio sockets, keep-alive connections, at most --connections in flight) sends signed
notifications (10% repeat an earlier event id, as Nylas retries do). The baseline in the same run
is the challenge GET at the same rate: the same server path without the signature and the durable
write, so the ratio shows what the write costs.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._support import GRANT, ROOT, child_env, config_toml, free_port, percentile, wait_port  # noqa: E402

SECRET = "bench-webhook-secret"
PATH = "/webhooks/nylas"


def notification(event_id: str) -> bytes:
    body = json.dumps({
        "specversion": "1.0", "type": "message.created", "id": event_id, "time": int(time.time()),
        "source": "/google/emails/realtime",
        "data": {"application_id": "app", "grant_id": GRANT, "object": {"id": f"m-{event_id}", "grant_id": GRANT}},
    }).encode()
    return body


def post_request(body: bytes) -> bytes:
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-Nylas-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def get_request(value: str) -> bytes:
    return f"GET {PATH}?challenge={value} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a request and reads one response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await self.reader.readexactly(length)
        return status


async def load(port: int, rate: float, seconds: float, connections: int, make_request) -> dict:
    """Send rate*seconds requests on schedule; latency is measured from the scheduled send time."""
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Connection(*await asyncio.open_connection("127.0.0.1", port)))
    total = int(rate * seconds)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    late = 0
    started = time.perf_counter()

    async def one(index: int, due: float) -> None:
        nonlocal late
        connection = await pool.get()
        if time.perf_counter() - due > 0.001:
            late += 1
        try:
            status = await connection.exchange(make_request(index))
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1
            latencies.append(time.perf_counter() - due)
            pool.put_nowait(connection)
        except Exception as exc:  # noqa: BLE001 - counted, and the connection replaced
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            pool.put_nowait(Connection(*await asyncio.open_connection("127.0.0.1", port)))

    tasks = []
    for index in range(total):
        due = started + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    while not pool.empty():
        pool.get_nowait().writer.close()
    return {"sent": total, "elapsed": elapsed, "latencies": latencies, "errors": errors, "late": late}


def report(name: str, result: dict) -> float:
    ms = [v * 1000 for v in result["latencies"]]
    p99 = percentile(ms, 0.99)
    print(f"{name:22} {result['sent']:>6} {result['sent'] / result['elapsed']:>8.0f} {percentile(ms, 0.5):>8.2f} "
          f"{p99:>8.2f} {max(ms) if ms else float('nan'):>8.2f} {sum(result['errors'].values()):>7} "
          f"{result['late']:>6}")
    return p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64, help="most requests in flight at once")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="triage-webhook-"))
    db_path = tmp / "webhook.db"
    config = tmp / "config.toml"
    config.write_text(config_toml("http://127.0.0.1:1", f"sqlite:///{db_path}"))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "triage_tui.cli", "--config", str(config), "webhook", "--port", str(port)],
        cwd=ROOT, env=child_env(NYLAS_WEBHOOK_SECRET=SECRET), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_port(port, 60)
        rng = random.Random(7)
        ids: list[str] = []
        bodies: dict[int, bytes] = {}

        def next_post(index: int) -> bytes:
            if ids and rng.random() < 0.10:
                event_id = rng.choice(ids)
            else:
                event_id = f"ev-{index:07d}"
                ids.append(event_id)
            bodies[index] = post_request(notification(event_id))
            return bodies[index]

        asyncio.run(load(port, 50, 1, 8, lambda i: get_request(f"warm{i}")))
        baseline = asyncio.run(load(port, args.rate, args.seconds, args.connections,
                                    lambda i: get_request(f"challenge-{i}")))
        posts = asyncio.run(load(port, args.rate, args.seconds, args.connections, next_post))
    finally:
        server.terminate()
        server.wait(10)
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM webhook_events").fetchone()[0]
        distinct = conn.execute("SELECT COUNT(DISTINCT event_id) FROM webhook_events").fetchone()[0]
    print(f"loopback, {args.rate:g} req/s for {args.seconds:g}s, <= {args.connections} in flight; "
          f"latency from each request's scheduled send time")
    print(f"{'run':22} {'reqs':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7} "
          f"{'late':>6}")
    base_p99 = report("challenge GET (base)", baseline)
    post_p99 = report("signed POST + row", posts)
    print(f"p99 POST / p99 GET: {post_p99 / base_p99:.1f}x; goal p99 < 20 ms with 0 errors: "
          f"{'met' if post_p99 < 20 and not posts['errors'] else 'NOT met'}")
    print(f"durable rows: {stored} for {len(set(ids))} distinct event ids ({distinct} distinct stored); "
          f"errors {posts['errors'] or 'none'}")


if __name__ == "__main__":
    main()
