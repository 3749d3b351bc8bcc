"""Migrations: a store written by an older release ends with exactly a new store's schema, and
opening a current store takes no lock a running worker could be waiting on."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from triage_tui.store import db as store_db
from triage_tui.store.models import database

SCHEMAS = Path(__file__).parent / "schemas"


def load_frozen_schema(db_url: str, version: int) -> None:
    """Write the schema an older release created (and nothing else) into an empty database."""
    if db_url.startswith("sqlite"):
        script = (SCHEMAS / f"v{version}.sqlite.sql").read_text()
        conn = sqlite3.connect(urlparse(db_url).path)
        conn.executescript(script)
        conn.close()
        return
    import psycopg2

    conn = psycopg2.connect(db_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute((SCHEMAS / f"v{version}.postgres.sql").read_text())
    conn.close()


def describe(db) -> dict:
    """Tables, columns, indexes (and triggers on PostgreSQL) in a form two stores can be compared by."""
    shape: dict = {}
    for table in sorted(db.get_tables()):
        columns = sorted(
            (c.name, c.data_type.lower(), c.null, c.primary_key) for c in db.get_columns(table)
        )
        indexes = sorted((tuple(i.columns), i.unique) for i in db.get_indexes(table))
        shape[table] = {"columns": columns, "indexes": indexes}
    if not store_db.is_sqlite(db):
        rows = db.execute_sql(
            "SELECT event_object_table, trigger_name, event_manipulation FROM information_schema.triggers "
            "ORDER BY 1, 2, 3"
        ).fetchall()
        shape["__triggers__"] = [tuple(row) for row in rows]
    return shape


def _reopen(db_url: str):
    if not database.is_closed():
        database.close()
    return store_db.open_url(db_url)


def test_a_version_1_store_is_migrated_to_the_schema_a_new_store_gets(db_url, tmp_path):
    fresh = store_db.open_url(db_url)
    expected = describe(fresh)
    fresh.close()
    database.initialize(None)
    if db_url.startswith("sqlite"):
        db_url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        from tests.fixtures.store import _reset_postgres

        _reset_postgres(db_url)
    load_frozen_schema(db_url, 1)
    migrated = store_db.open_url(db_url)
    try:
        assert store_db.schema_version(migrated) == store_db.SCHEMA_VERSION
        assert describe(migrated) == expected
    finally:
        migrated.close()
        database.initialize(None)


def test_a_current_store_opens_while_another_writer_holds_its_locks(db, db_url):
    """Opening must not wait on a worker's open write transaction (it used to re-create triggers)."""
    db.close()
    opened = threading.Event()
    errors: list[BaseException] = []
    if db_url.startswith("sqlite"):
        holder = sqlite3.connect(urlparse(db_url).path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE meta SET value = value")
    else:
        import psycopg2

        holder = psycopg2.connect(db_url)
        with holder.cursor() as cur:  # a worker mid-transaction: row locks on the hot tables
            cur.execute("UPDATE meta SET value = value")
            cur.execute("LOCK TABLE messages IN ROW EXCLUSIVE MODE")

    def open_it():
        try:
            store_db.open_url(db_url, busy_timeout_ms=300).close()
            opened.set()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=open_it, daemon=True)
    thread.start()
    thread.join(timeout=10)
    try:
        assert not errors, errors
        assert opened.is_set(), "opening a current store waited behind another writer"
    finally:
        holder.rollback() if not db_url.startswith("sqlite") else holder.execute("ROLLBACK")
        holder.close()
        thread.join(timeout=10)
        database.initialize(None)


def test_pending_versions_are_empty_once_current(db):
    assert store_db.pending_versions(db) == []


@pytest.mark.parametrize("version", [1])
def test_frozen_schemas_exist_for_both_engines(version):
    assert (SCHEMAS / f"v{version}.sqlite.sql").is_file()
    assert (SCHEMAS / f"v{version}.postgres.sql").is_file()
