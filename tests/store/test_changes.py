"""Other processes learn of a change within a second: LISTEN/NOTIFY on PostgreSQL."""

from __future__ import annotations

import time

import psycopg2
import pytest

from triage_tui.store.changes import RECONNECTED, ChangeFeed
from triage_tui.store.control import set_stop_switch
from triage_tui.store.db import is_sqlite


@pytest.fixture
def feed(db, db_url):
    if is_sqlite(db):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL only; SQLite consoles poll a version token")
    change_feed = ChangeFeed(db_url)
    assert change_feed.wait(0.1) == {RECONNECTED}  # the first connect asks for a full re-query
    yield change_feed
    change_feed.close()


def test_a_stop_switch_flip_reaches_a_listener_within_a_second(feed):
    started = time.monotonic()
    set_stop_switch(True, actor="ana", reason="incident")
    changed = feed.wait(1.0)
    assert "control" in changed
    assert time.monotonic() - started < 1.0


def test_a_dropped_listener_reconnects_and_asks_for_a_requery(feed, db_url):
    pid = feed._conn.get_backend_pid()
    killer = psycopg2.connect(db_url)
    killer.autocommit = True
    with killer.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
    killer.close()
    seen = [feed.wait(0.5) for _ in range(4)]
    assert sum(RECONNECTED in changed for changed in seen) >= 1  # dropped, then reopened
    set_stop_switch(True, actor="ana", reason="after reconnect")
    assert "control" in feed.wait(1.0)


def test_sqlite_feed_only_waits(tmp_path):
    feed = ChangeFeed(f"sqlite:///{tmp_path / 'x.db'}")
    started = time.monotonic()
    assert feed.wait(0.05) == set()
    assert time.monotonic() - started >= 0.05
