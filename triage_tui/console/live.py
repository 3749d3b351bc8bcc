"""Live refresh: a thread that waits on the store's change feed and wakes the console's poll."""

from __future__ import annotations

import threading
import time

from textual.message import Message

from triage_tui.store.changes import RECONNECTED, ChangeFeed

FEED_WAIT_S = 0.5
SLOW_POLL_S = 3.0
COALESCE_S = 0.2  # a busy worker notifies many times a second: refresh at most this often


class FeedEvent(Message):
    """Another process changed these tables (RECONNECTED: re-query all), or the feed went up or down."""

    def __init__(self, tables: frozenset[str], healthy: bool) -> None:
        super().__init__()
        self.tables, self.healthy = tables, healthy


class FeedListener:
    """A daemon thread on a dedicated LISTEN connection; only PostgreSQL has one to offer."""

    def __init__(self, app, url: str) -> None:
        self.app = app
        self.feed = ChangeFeed(url)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def available(self) -> bool:
        """True when the store can notify (PostgreSQL)."""
        return self.feed.listening

    def start(self) -> None:
        """Start listening (once); a no-op on SQLite, where the console keeps its fast poll."""
        if self.available and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="triage-feed", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread; it closes its connection within FEED_WAIT_S."""
        self._stopping.set()

    def _run(self) -> None:
        healthy, pending, posted_at = False, set(), 0.0
        first_connect = True
        try:
            while not self._stopping.is_set():
                changed = self.feed.wait(COALESCE_S if pending else FEED_WAIT_S)
                if first_connect and self.feed.connected:
                    changed.discard(RECONNECTED)  # the console has just read everything
                    first_connect = False
                pending |= changed
                if self._stopping.is_set() or not self.app.is_running:
                    break
                due = pending and time.monotonic() - posted_at >= COALESCE_S
                if due or self.feed.connected != healthy:
                    healthy = self.feed.connected
                    self.app.post_message(FeedEvent(frozenset(pending), healthy))
                    pending, posted_at = set(), time.monotonic()
        finally:
            self.feed.close()
