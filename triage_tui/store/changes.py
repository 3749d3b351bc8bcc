"""Change notifications between processes: LISTEN/NOTIFY on PostgreSQL, a slow poll elsewhere."""

from __future__ import annotations

import select
import time
from typing import Callable

from peewee import Database, PostgresqlDatabase

CHANNEL = "triage_changes"
WATCHED_TABLES = ("messages", "conversations", "suggestions", "tickets", "decisions", "outbox", "control",
                  "review_leases", "tracker_writes", "tracker_links")
RECONNECTED = "*reconnected*"

_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION triage_notify_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""


def install_triggers(db: Database, tables: tuple[str, ...] = WATCHED_TABLES) -> None:
    """On PostgreSQL, make every write to these watched tables NOTIFY the channel (idempotent)."""
    if not isinstance(db, PostgresqlDatabase):
        return
    db.execute_sql(_FUNCTION_SQL)
    for table in tables:
        db.execute_sql(f"DROP TRIGGER IF EXISTS triage_notify_{table} ON {table}")
        db.execute_sql(
            f"CREATE TRIGGER triage_notify_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION triage_notify_change()"
        )


class ChangeFeed:
    """Blocks until another process changes the store, or a timeout passes.

    On PostgreSQL a dedicated connection LISTENs; if it drops, the feed reconnects and reports
    RECONNECTED so the caller re-queries everything. On SQLite (one machine) there is nothing to
    listen to: `wait` simply sleeps, and callers fall back to polling a cheap version token.
    """

    def __init__(self, url: str, *, connect: Callable | None = None, retry_s: float = 1.0) -> None:
        self.url = url
        self.retry_s = retry_s
        self._connect = connect
        self._conn = None
        self.listening = url.startswith(("postgres://", "postgresql://"))

    def wait(self, timeout: float) -> set[str]:
        """The tables changed since the last call (possibly RECONNECTED), or empty on timeout."""
        if not self.listening:
            time.sleep(timeout)
            return set()
        reconnected = False
        if self._conn is None:
            if not self._open():
                time.sleep(min(timeout, self.retry_s))
                return set()
            reconnected = True
        try:
            changed = self._drain()
            if not changed:
                ready, _, _ = select.select([self._conn], [], [], timeout)
                if ready:
                    changed = self._drain()
                    if not changed:
                        self._conn.poll()  # a readable socket with nothing in it: raises if the server hung up
        except Exception:  # a dropped connection: reopen next time and re-query
            self.close()
            return {RECONNECTED}
        if reconnected:
            changed.add(RECONNECTED)
        return changed

    @property
    def connected(self) -> bool:
        """True while the listening connection is up (notifications arrive as they happen)."""
        return self._conn is not None

    def close(self) -> None:
        """Drop the listening connection."""
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
        self._conn = None

    def _open(self) -> bool:
        try:
            if self._connect is not None:
                conn = self._connect()
            else:
                import psycopg2

                conn = psycopg2.connect(self.url)
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
        except Exception:
            return False
        self._conn = conn
        return True

    def _drain(self) -> set[str]:
        self._conn.poll()
        changed = set()
        while self._conn.notifies:
            changed.add(self._conn.notifies.pop(0).payload)
        return changed
