"""The console's data layer at scale: keyset windows versus OFFSET paging, in one run.

    python benchmarks/queue_store.py            # 1,000 and 100,000 messages
    python benchmarks/queue_store.py --full     # and 1,000,000

For each size, on a fresh SQLite file: median time of the first window, a window 90 % deep by
keyset (`queue_window(after=cursor)`), the same page with the naive `LIMIT 50 OFFSET k`, the
header figures, the change token and a thread detail; prints the OFFSET/keyset ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.store.factories import make_messages  # noqa: E402
from triage_tui.domain import QueueCursor, QueueFilter  # noqa: E402
from triage_tui.store.db import open_url  # noqa: E402
from triage_tui.store.models import MessageRow, database  # noqa: E402
from triage_tui.store.queue import header_stats, queue_count, queue_version, queue_window  # noqa: E402
from triage_tui.store.threads import message_detail  # noqa: E402

NOW = 1_780_000_000.0 + 100_000_000
PAGE = 50


def median_ms(call, repeat: int) -> float:
    """Median wall time of `call` in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def offset_page(offset: int) -> list:
    """The naive recipe: one ORDER BY over the open states with OFFSET."""
    query = (
        MessageRow.select()
        .where(MessageRow.state.in_(["new", "needs_human"]))
        .order_by(MessageRow.urgency_rank, MessageRow.received_at, MessageRow.id)
        .offset(offset)
        .limit(PAGE)
    )
    return list(query)


def run(size: int, repeat: int) -> dict[str, float]:
    """Build a store of `size` messages and time every read the console makes."""
    with tempfile.TemporaryDirectory() as tmp:
        open_url(f"sqlite:///{tmp}/bench.db")
        start = time.perf_counter()
        for offset in range(0, size, 100_000):
            make_messages(min(100_000, size - offset), start=offset)
        load_s = time.perf_counter() - start
        deep = int(size * 0.9)
        row = (
            MessageRow.select()
            .order_by(MessageRow.urgency_rank, MessageRow.received_at, MessageRow.id)
            .offset(deep - 1)
            .first()
        )
        cursor = QueueCursor(urgency_rank=row.urgency_rank, received_at=row.received_at, key=row.id)
        keyset = queue_window(QueueFilter(), after=cursor, limit=PAGE, now=NOW)
        naive = offset_page(deep)
        assert [i.key for i in keyset] == [r.id for r in naive], "keyset and OFFSET disagree"
        figures = {
            "load_s": load_s,
            "first_ms": median_ms(lambda: queue_window(QueueFilter(), limit=PAGE, now=NOW), repeat),
            "deep_keyset_ms": median_ms(
                lambda: queue_window(QueueFilter(), after=cursor, limit=PAGE, now=NOW), repeat
            ),
            "deep_back_ms": median_ms(
                lambda: queue_window(QueueFilter(), before=cursor, limit=PAGE, now=NOW), repeat
            ),
            "deep_offset_ms": median_ms(lambda: offset_page(deep), max(3, repeat // 5)),
            "count_ms": median_ms(lambda: queue_count(QueueFilter(), now=NOW), repeat),
            "header_ms": median_ms(lambda: header_stats(now=NOW), repeat),
            "version_ms": median_ms(lambda: queue_version(now=NOW), repeat),
            "detail_ms": median_ms(lambda: message_detail(row.id, now=NOW), repeat),
        }
        database.obj.close()
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also run 1,000,000 messages")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    sizes = [1_000, 100_000] + ([1_000_000] if args.full else [])
    header = (f"{'messages':>10} {'load s':>7} {'first':>7} {'keyset':>7} {'back':>7} {'OFFSET':>8} "
              f"{'ratio':>7} {'count':>7} {'header':>7} {'token':>7} {'detail':>7}   (ms, median)")
    print(header)
    for size in sizes:
        f = run(size, args.repeat)
        ratio = f["deep_offset_ms"] / f["deep_keyset_ms"]
        print(f"{size:>10,} {f['load_s']:>7.1f} {f['first_ms']:>7.2f} {f['deep_keyset_ms']:>7.2f} "
              f"{f['deep_back_ms']:>7.2f} {f['deep_offset_ms']:>8.2f} {ratio:>6.0f}x {f['count_ms']:>7.2f} "
              f"{f['header_ms']:>7.2f} {f['version_ms']:>7.2f} {f['detail_ms']:>7.2f}")
    print("keyset = queue_window 90 % deep; OFFSET = the same page by LIMIT/OFFSET; ratio = OFFSET/keyset")


if __name__ == "__main__":
    main()
