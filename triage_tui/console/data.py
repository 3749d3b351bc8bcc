"""The console's reads and writes: store calls made on the calling worker thread's own connection."""

from __future__ import annotations

from typing import Callable, TypeVar

from triage_tui.domain import QueueCursor, QueueFilter, QueueItem
from triage_tui.store.db import connection  # noqa: F401  (re-exported for workers)
from triage_tui.store.transient import retrying

T = TypeVar("T")

# A cursor past every real row: reading `before` it gives the end of the queue.
END_OF_QUEUE = QueueCursor(urgency_rank=1_000_000, received_at=1e18, key=2**62)


def run(call: Callable[..., T], *args, **kwargs) -> T:
    """Call a store function on this thread's connection, closing it afterwards.

    A transient database error (a deadlock, a restart, a busy file) runs the call again through the
    shared retry path; past `[database] retry_for_s` the error reaches the worker's error toast.
    """
    with connection():
        return retrying(call, *args, **kwargs)


def window(flt: QueueFilter, *, after: QueueCursor | None = None, before: QueueCursor | None = None,
           limit: int = 50, now: float | None = None) -> list[QueueItem]:
    """Queue rows in display order, read through the keyset index."""
    from triage_tui.store.queue import queue_window

    return run(queue_window, flt, after=after, before=before, limit=limit, now=now)


def count(flt: QueueFilter, cap: int = 10_000, now: float | None = None) -> int:
    """How many rows the filter matches, up to the cap."""
    from triage_tui.store.queue import queue_count

    return run(queue_count, flt, cap=cap, now=now)


def cursor(item: QueueItem) -> QueueCursor:
    """The keyset position of a row."""
    from triage_tui.store.queue import cursor_of

    return cursor_of(item)
