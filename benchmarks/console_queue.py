"""Console queue benchmark: first paint and per-keystroke cost of the conversation queue, the message
queue it replaced, and Textual's DataTable.

Run by hand:  .venv/bin/python benchmarks/console_queue.py [--sizes 1000,100000,1000000]

For each size it builds (once, cached in --data-dir) a SQLite store of that many messages in
THREAD_SHARE as many threads (1,000,000 messages in 300,000 conversations), grouped into
conversations as the schema migration does, then runs each measurement in a fresh subprocess so
peak memory (max RSS) belongs to that measurement alone:
  * conversations: make_app() -> the first painted queue screen (one row per thread); then 300
               "down" keys at key-repeat pace (30/s), each timed from the key event until the cursor
               has moved and the screen is repainted (median and p95; "moved" counts keys that moved).
  * messages:  the same console in the message view (view:messages), the queue before conversations.
  * datatable: the open messages read from the same store into Textual's DataTable (the baseline).
It prints each, the ratio of conversations to messages, and the whole process's cold start
(`triage-tui --help`, console import) against a bare `python -c pass`.
Goals: first paint < 0.3 s, < 16 ms per key, flat across sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KEYS = 300
KEY_INTERVAL_S = 1 / 30   # a held-down arrow key repeats about 30 times a second
MAX_KEY_WAIT_S = 2.0
SIZE = (120, 36)
THREAD_SHARE = 0.3  # threads per message: 1,000,000 messages in 300,000 conversations
CATEGORIES = ["billing", "bug", "account_access", "feature_request", "spam", "other"]
URGENCIES = ["critical", "high", "normal", "low"]


def build_store(path: Path, rows: int) -> None:
    """A store with `rows` messages in conversations, written in bulk (the benchmark's data, not the app's path)."""
    from triage_tui.store.conversations import rebuild
    from triage_tui.store.db import open_url, write_transaction
    from triage_tui.store.models import MessageRow

    if path.exists():
        return
    tmp = path.with_suffix(".building")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    db = open_url(f"sqlite:///{tmp}")
    rng = random.Random(rows)
    now = time.time()
    started = time.perf_counter()
    batch = []
    for index in range(rows):
        urgency = rng.choices(URGENCIES, weights=[1, 4, 10, 5])[0]
        state = rng.choices(["new", "needs_human", "ticket", "dismissed"], weights=[10, 3, 4, 1])[0]
        received = now - rng.uniform(0, 30 * 86400)
        batch.append(dict(
            tenant_id="bench", environment="test", grant_id="grant-bench", message_id=f"m{index:08d}",
            thread_id=f"t{int(index * THREAD_SHARE):08d}", subject=f"Subject line number {index} about {urgency} things",
            sender_email=f"user{index % 5000}@example{index % 97}.com", received_at=received, state=state,
            category=rng.choice(CATEGORIES), urgency=urgency, urgency_rank=URGENCIES.index(urgency),
            confidence=round(rng.random(), 2), flags="[]", created_at=now, updated_at=now,
        ))
        if len(batch) == 5000 or index == rows - 1:
            with write_transaction(db):
                MessageRow.insert_many(batch).execute()
            batch = []
    with write_transaction(db):
        conversations = rebuild(now)
    db.execute_sql("ANALYZE")
    db.close()
    tmp.rename(path)
    print(f"  built {rows:,} messages in {conversations:,} conversations in {time.perf_counter() - started:.1f} s"
          f" -> {path}", flush=True)


async def _time_keys(pilot, count: int, position, at_last=lambda: False) -> tuple[list[float], int]:
    """Per key: queue the event, wait until the cursor has moved, repaint the screen; time all of it.

    Returns the timings and how many keys moved the cursor (`position()` before and after); stops
    early once the cursor sits on the queue's last row (a smaller queue than `count` keys).
    """
    from textual import events

    app = pilot.app
    timings = []
    moved = 0
    for _ in range(count):
        if at_last():
            break
        await asyncio.sleep(KEY_INTERVAL_S)   # untimed idle between keys, as with key repeat
        before = position()
        started = time.perf_counter()
        event = events.Key("down", None)
        event.set_sender(app)
        app.post_message(event)
        await pilot._wait_for_screen()
        # until the cursor has really moved (a key that lands on a window edge waits for the next page)
        while position() == before and time.perf_counter() - started < MAX_KEY_WAIT_S:
            await asyncio.sleep(0.0005)
        if app._exception is not None:
            raise app._exception
        app.screen._on_timer_update()
        timings.append(time.perf_counter() - started)
        if position() != before:
            moved += 1
    return timings, moved


async def measure_console(db_path: Path, keys_to_press: int = KEYS, *, messages: bool = False) -> dict:
    """First paint and key timings of the console on this store (conversations, or the message view)."""
    from triage_tui.config import Config, DatabaseConfig

    from triage_tui.console.app import make_app
    from triage_tui.console.screens.queue import QueueScreen
    from triage_tui.console.widgets import queue_table
    from triage_tui.domain import QueueFilter

    if messages:  # the console opening straight in view:messages
        queue_table.QueueFilter = lambda: QueueFilter(messages=True)

    config = Config(database=DatabaseConfig(url=f"sqlite:///{db_path}"))
    started = time.perf_counter()   # the app's start: imports count in the cold start below
    app = make_app(config, poll_interval_s=3600, operator="bench")
    async with app.run_test(size=SIZE) as pilot:
        while not (isinstance(app.screen, QueueScreen) and app.screen.table.loaded):
            await asyncio.sleep(0.001)
        await pilot._wait_for_screen()
        app.screen._on_timer_update()
        first_paint = time.perf_counter() - started
        table = app.screen.table
        await pilot.pause(0.2)
        keys, moved = await _time_keys(pilot, keys_to_press, lambda: table.current.key if table.current else None,
                                       lambda: table.at_end and table.selected >= len(table.items) - 1)
        shown = len(table.items)
    return {"first_paint_s": first_paint, "keys_s": keys, "rows_in_memory": shown, "moved": moved}


async def measure_datatable(db_path: Path, keys_to_press: int = KEYS) -> dict:
    """The same rows, same order, loaded into Textual's built-in DataTable."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from triage_tui.store.db import open_url
    from triage_tui.store.models import MessageRow

    class Baseline(App):
        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row")

        def on_mount(self) -> None:
            open_url(f"sqlite:///{db_path}")
            table = self.query_one(DataTable)
            table.add_columns("urg", "category", "sender", "subject", "received", "state")
            query = (MessageRow.select(MessageRow.urgency, MessageRow.category, MessageRow.sender_email,
                                       MessageRow.subject, MessageRow.received_at, MessageRow.state)
                     .where(MessageRow.state.in_(["new", "needs_human"]))
                     .order_by(MessageRow.urgency_rank, MessageRow.received_at, MessageRow.id))
            table.add_rows([(u, c, s, subj, f"{r:.0f}", st) for u, c, s, subj, r, st in query.tuples()])
            self.loaded = True

    started = time.perf_counter()
    app = Baseline()
    app.loaded = False
    async with app.run_test(size=SIZE) as pilot:
        while not app.loaded:
            await asyncio.sleep(0.001)
        await pilot._wait_for_screen()
        app.screen._on_timer_update()
        first_paint = time.perf_counter() - started
        await pilot.pause(0.2)
        table = app.query_one(DataTable)
        keys, moved = await _time_keys(pilot, keys_to_press, lambda: table.cursor_row,
                                       lambda: table.cursor_row >= table.row_count - 1)
        shown = table.row_count
    return {"first_paint_s": first_paint, "keys_s": keys, "rows_in_memory": shown, "moved": moved}


def run_one(kind: str, db_path: Path, keys: int) -> None:
    """Child process: one measurement, printed as JSON with the peak RSS."""
    if kind == "datatable":
        result = asyncio.run(measure_datatable(db_path, keys))
    else:
        result = asyncio.run(measure_console(db_path, keys, messages=kind == "messages"))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def child(kind: str, db_path: Path, keys: int = KEYS) -> dict:
    """Run one measurement in a fresh interpreter."""
    out = subprocess.run([sys.executable, __file__, "--one", kind, "--db", str(db_path), "--keys", str(keys)],
                         capture_output=True, text=True, cwd=ROOT)
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"{kind} run failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    return json.loads(line[len("RESULT "):])


def with_paint_runs(kind: str, db_path: Path, runs: int) -> dict:
    """One full run, plus first-paint-only runs; first paint is the median of all of them."""
    result = child(kind, db_path)
    paints = [result["first_paint_s"]] + [child(kind, db_path, keys=0)["first_paint_s"] for _ in range(runs - 1)]
    result["first_paint_s"] = statistics.median(paints)
    result["paint_runs"] = paints
    return result


def summary(result: dict) -> tuple[float, float, float]:
    """First paint, median and p95 key time of one result."""
    keys = result["keys_s"]
    p95 = sorted(keys)[int(len(keys) * 0.95) - 1]
    return result["first_paint_s"], statistics.median(keys), p95


def cold_start() -> None:
    """The whole process: `triage-tui --help` and importing the console, against `python -c pass`."""
    def timed(args: list[str], runs: int = 5) -> float:
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(args, capture_output=True, cwd=ROOT, check=True)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)

    bare = timed([sys.executable, "-c", "pass"])
    helptext = timed([sys.executable, "-m", "triage_tui.cli", "--help"])
    console = timed([sys.executable, "-c", "import triage_tui.console.app"])
    print("\ncold start (median of 5 fresh processes)")
    print(f"  python -c pass                     {bare * 1000:7.0f} ms  (baseline)")
    print(f"  triage-tui --help                  {helptext * 1000:7.0f} ms  ({helptext / bare:.1f}x baseline)")
    print(f"  import triage_tui.console.app      {console * 1000:7.0f} ms  ({console / bare:.1f}x baseline)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--datatable-max", type=int, default=100_000,
                        help="skip the DataTable baseline above this many rows (it loads every row)")
    parser.add_argument("--data-dir", default="/tmp/triage-bench")
    parser.add_argument("--one", choices=["conversations", "messages", "datatable"], help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--keys", type=int, default=KEYS, help=argparse.SUPPRESS)
    parser.add_argument("--paint-runs", type=int, default=3, help="fresh processes per first-paint figure")
    args = parser.parse_args()
    if args.one:
        run_one(args.one, Path(args.db), args.keys)
        return
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"console queue benchmark: {SIZE[0]}x{SIZE[1]} headless, {KEYS} 'down' keys at "
          f"{1 / KEY_INTERVAL_S:.0f}/s, each timed from the key event to the repainted screen, {os.cpu_count()} CPUs")
    for rows in [int(s) for s in args.sizes.split(",")]:
        db_path = data_dir / f"queue-{rows}-conversations.db"
        build_store(db_path, rows)
        results = {"conversations": with_paint_runs("conversations", db_path, args.paint_runs),
                   "messages": with_paint_runs("messages", db_path, args.paint_runs)}
        if rows <= args.datatable_max:
            results["datatable"] = with_paint_runs("datatable", db_path, 1 if rows > 10_000 else args.paint_runs)
        print(f"\n{rows:,} messages in {int(rows * THREAD_SHARE):,} threads")
        print(f"  {'':14} {'first paint*':>12} {'key median':>11} {'key p95':>9} {'moved':>8} {'rows held':>10}"
              f" {'peak RSS':>9}")
        for kind, result in results.items():
            paint, median, p95 = summary(result)
            print(f"  {kind:14} {paint:10.3f} s {median * 1000:8.2f} ms {p95 * 1000:6.2f} ms "
                  f"{result['moved']:>4}/{len(result['keys_s']):<3} {result['rows_in_memory']:>10,} "
                  f"{result['peak_rss_mb']:6.0f} MB")
        for kind in ("conversations", "messages"):
            runs = ", ".join(f"{p:.3f}" for p in results[kind]["paint_runs"])
            print(f"  * median of fresh processes; {kind} runs: {runs} s")
        c_paint, c_median, _ = summary(results["conversations"])
        m_paint, m_median, _ = summary(results["messages"])
        print(f"  ratio (conversations / message queue): first paint {c_paint / m_paint:.2f}x, "
              f"key median {c_median / m_median:.2f}x")
        if "datatable" in results:
            d_paint, d_median, _ = summary(results["datatable"])
            print(f"  ratio (datatable / conversations): first paint {d_paint / c_paint:.1f}x, "
                  f"key median {d_median / c_median:.1f}x")
        else:
            print(f"  datatable skipped above {args.datatable_max:,} rows (it reads and measures every row)")
    cold_start()


if __name__ == "__main__":
    main()
