"""Opening the store: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL, migrated when behind.

Opening a store whose schema is current only reads: no DDL, no write transaction, no lock
stronger than a plain SELECT's, so a console or a runbook command can open the database while
workers hold row locks. Only a store that is behind takes the migration lock.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

from peewee import Database, DatabaseError, OperationalError, PostgresqlDatabase, SqliteDatabase

from triage_tui.config import DatabaseConfig
from triage_tui.store.changes import install_triggers
from triage_tui.store.migrations import latest_version, pending
from triage_tui.store.models import ALL_TABLES, Meta, database
from triage_tui.store.transient import describe, is_database_error, redact, retrying

SCHEMA_VERSION = latest_version()
MIGRATION_LOCK_ID = 7_331_001  # the PostgreSQL advisory lock that serialises migrations
CONNECT_TIMEOUT_S = 5


class StoreError(Exception):
    """The store cannot be opened or used; the message says why in one line."""


def open_database(config: DatabaseConfig, *, migrate_schema: bool = True) -> Database:
    """Connect (retrying a server that is restarting), bind every model, and create or migrate the schema.

    StoreError, in one line naming the database, when it cannot be reached or used.
    """
    url = config.resolved_url()
    try:
        db = _make_database(url, config.busy_timeout_ms)
    except OSError as exc:
        raise StoreError(f"cannot open the database at {redact(url)}: {exc}") from None
    db.triage_url = url
    db.triage_retry_for_s = config.retry_for_s
    database.initialize(db)
    try:
        retrying(db.connect, reuse_if_open=True)
        if migrate_schema:
            retrying(migrate, db)
        else:
            retrying(_stored_version, db)
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - every driver error becomes the one line
        if not is_database_error(exc) and not isinstance(exc, OSError):
            raise
        raise StoreError(describe(exc, db)) from exc
    return db


def open_url(url: str, *, busy_timeout_ms: int = 5000, retry_for_s: float = 10.0) -> Database:
    """Open a database by URL (tests and tools)."""
    return open_database(DatabaseConfig(url=url, busy_timeout_ms=busy_timeout_ms, retry_for_s=retry_for_s))


def is_sqlite(db: Database | None = None) -> bool:
    """True when the bound database is SQLite."""
    target = db or database.obj
    return isinstance(target, SqliteDatabase)


def write_transaction(db: Database | None = None):
    """A write transaction that takes the lock up front (IMMEDIATE on SQLite)."""
    target = db or database.obj
    if isinstance(target, SqliteDatabase):
        return target.atomic(lock_type="IMMEDIATE")
    return target.atomic()


def migrate(db: Database) -> list[str]:
    """Bring the schema to SCHEMA_VERSION (only if behind); what was applied, one line each.

    Refuses a database newer than this release. Opening a current store returns [] after one read.
    """
    if _stored_version(db) == SCHEMA_VERSION:
        return []
    with write_transaction(db):
        if isinstance(db, PostgresqlDatabase):
            # several workers and consoles may start at once: one migrates, the others wait their turn
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_ID,))
        current = _stored_version(db)
        if current is None:
            db.create_tables(ALL_TABLES, safe=True)
            install_triggers(db)
            _record_version(SCHEMA_VERSION)
            return [f"created the schema at version {SCHEMA_VERSION}"]
        applied = []
        for version, step in pending(current):
            step.upgrade(db)
            _record_version(version)
            applied.append(f"version {version}: {step.name}")
    return applied


def pending_versions(db: Database) -> list[int]:
    """The versions a migration would apply now (empty when the schema is current)."""
    current = _stored_version(db)
    if current is None:
        return [SCHEMA_VERSION]
    return [version for version, _ in pending(current)]


def inspect_schema(config: DatabaseConfig) -> tuple[int | None, list[int]]:
    """(stored schema version or None, versions a start would apply), creating and binding nothing.

    A SQLite file that does not exist yet is reported as empty rather than created.
    """
    url = config.resolved_url()
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path != ":memory:" and not Path(path).expanduser().exists():
            return None, [SCHEMA_VERSION]
    db = _make_database(url, config.busy_timeout_ms)
    try:
        db.connect()
    except OperationalError as exc:
        raise StoreError(f"cannot open the database at {redact(url)}: {exc}") from None
    table = Meta._meta.table_name
    try:
        if not db.table_exists(table):
            return None, [SCHEMA_VERSION]
        row = db.execute_sql(f"SELECT value FROM {table} WHERE key = {db.param}", ("schema_version",)).fetchone()
    except DatabaseError as exc:
        raise StoreError(f"cannot read the database at {redact(url)}: {exc}") from None
    finally:
        db.close()
    current = _check_not_newer(int(row[0]) if row else 0)
    return current, [version for version, _ in pending(current)]


def pending_steps(db: Database) -> list[str]:
    """What `migrate` would do now, one line each (empty when the schema is current)."""
    current = _stored_version(db)
    if current is None:
        return [f"create the schema at version {SCHEMA_VERSION}"]
    return [f"version {version}: {step.name}" for version, step in pending(current)]


def _stored_version(db: Database) -> int | None:
    """The recorded version, None for an empty database; refuses a newer schema."""
    if not db.table_exists(Meta._meta.table_name):
        return None
    row = Meta.get_or_none(Meta.key == "schema_version")
    return _check_not_newer(int(row.value) if row else 0)


def _check_not_newer(current: int) -> int:
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"the database schema is version {current}, newer than this triage-tui "
            f"understands ({SCHEMA_VERSION}); upgrade triage-tui instead of downgrading the data"
        )
    return current


def _record_version(version: int) -> None:
    Meta.insert(key="schema_version", value=str(version)).on_conflict(
        conflict_target=[Meta.key], update={Meta.value: str(version)}
    ).execute()


def schema_version(db: Database) -> int:
    """The schema version recorded in the database."""
    row = Meta.get_or_none(Meta.key == "schema_version")
    return int(row.value) if row else 0


@contextlib.contextmanager
def connection(db: Database | None = None) -> Iterator[Database]:
    """Use the database from the current thread, closing the thread's connection afterwards."""
    target = db or database.obj
    opened = target.connect(reuse_if_open=True)
    try:
        yield target
    finally:
        if opened:
            target.close()


def _make_database(url: str, busy_timeout_ms: int) -> Database:
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else parsed.path
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(
            path,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "synchronous": "normal",
                "busy_timeout": busy_timeout_ms,
                "cache_size": -32000,
            },
            timeout=busy_timeout_ms / 1000,
        )
    if parsed.scheme in ("postgres", "postgresql"):
        return PostgresqlDatabase(
            parsed.path.lstrip("/"),
            user=parsed.username,
            password=parsed.password,
            host=parsed.hostname,
            port=parsed.port,
            connect_timeout=CONNECT_TIMEOUT_S,
        )
    raise StoreError(f"unsupported database url {redact(url)!r}: use sqlite:///PATH or postgresql://...")
