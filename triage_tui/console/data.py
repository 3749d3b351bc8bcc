"""The console's reads and writes: store calls made on the calling worker thread's own connection."""

from __future__ import annotations

from typing import Callable, TypeVar

from triage_tui.domain import MessageDetail, QueueCursor, QueueFilter, QueueItem
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
    """Queue rows in display order, read through the keyset index, with their tickets' tracker keys."""
    from triage_tui.store.queue import queue_window
    from triage_tui.store.tracker_queries import with_tracker_keys

    return run(lambda: with_tracker_keys(queue_window(flt, after=after, before=before, limit=limit, now=now)))


def message_detail(key: int) -> MessageDetail | None:
    """What the thread view shows about a message, with its ticket's tracker key and URL."""
    from triage_tui.store.threads import message_detail as read_detail
    from triage_tui.store.tracker_queries import with_tracker_keys

    def read() -> MessageDetail | None:
        detail = read_detail(key)
        if detail is None:
            return None
        items = with_tracker_keys([detail.item, *([detail.conversation] if detail.conversation else [])])
        return detail.model_copy(update={"item": items[0], "conversation": items[1] if len(items) > 1 else None})

    return run(read)


def count(flt: QueueFilter, cap: int = 10_000, now: float | None = None) -> int:
    """How many rows the filter matches, up to the cap."""
    from triage_tui.store.queue import queue_count

    return run(queue_count, flt, cap=cap, now=now)


def cursor(item: QueueItem) -> QueueCursor:
    """The keyset position of a row."""
    from triage_tui.store.queue import cursor_of

    return cursor_of(item)
