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


def empty_version_1_store(db_url: str, tmp_path) -> str:
    """A database on the engine under test holding only the frozen version-1 schema; its URL."""
    database.initialize(None)
    if db_url.startswith("sqlite"):
        db_url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        from tests.fixtures.store import _reset_postgres

        _reset_postgres(db_url)
    load_frozen_schema(db_url, 1)
    return db_url


def _reopen(db_url: str):
    if not database.is_closed():
        database.close()
    return store_db.open_url(db_url)


def test_a_version_1_store_is_migrated_to_the_schema_a_new_store_gets(db_url, tmp_path):
    fresh = store_db.open_url(db_url)
    expected = describe(fresh)
    fresh.close()
    db_url = empty_version_1_store(db_url, tmp_path)
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


V1_MESSAGE = dict(tenant_id="acme", environment="test", agent_account_email="support@acme.example",
                  grant_id="g1", workspace_id="", policy_id="", rule_ids="[]", folder_ids="[]", label_ids="[]",
                  dedupe_key="", sender_name="", category="billing", urgency="high", urgency_rank=1,
                  confidence=0.9, classification_version="rules-1", webhook_trigger="poll", event_id="",
                  attempts=0, last_error="", created_at=1.0, updated_at=1.0)
V1_BODY = dict(body_text="", body_html="", snippet="", headers="[]", to_addrs="[]", cc_addrs="[]", reply_to="[]",
               attachments="[]", in_reply_to="", references="[]", hidden_characters="[]", signals="{}",
               truncated=False)


def _insert_v1(db_url: str, rows: list[tuple[dict, str]], tickets: list[dict]) -> None:
    """Write rows shaped as version 1 wrote them, straight through the driver."""
    def insert(cursor, table: str, values: dict, mark: str) -> None:
        names = ", ".join(f'"{k}"' for k in values)
        cursor.execute(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join([mark] * len(values))})',
                       list(values.values()))

    if db_url.startswith("sqlite"):
        conn, mark = sqlite3.connect(urlparse(db_url).path), "?"
    else:
        import psycopg2

        conn, mark = psycopg2.connect(db_url), "%s"
    cursor = conn.cursor()
    for number, (message, rfc_id) in enumerate(rows, start=1):
        insert(cursor, "messages", {"id": number, **V1_MESSAGE, **message}, mark)
        insert(cursor, "message_bodies", {"message_id": number, **V1_BODY, "internet_message_id": rfc_id}, mark)
    for ticket in tickets:
        insert(cursor, "tickets", ticket, mark)
    conn.commit()
    conn.close()


def test_version_1_messages_are_grouped_into_conversations_and_keep_their_tickets(db_url, tmp_path):
    from triage_tui.store.models import ConversationRow, MessageBody, MessageRow

    db_url = empty_version_1_store(db_url, tmp_path)
    thread_a = dict(thread_id="tA", ticket_id="T-1")
    _insert_v1(db_url, [
        ({**thread_a, "message_id": "a1", "subject": "Invoice wrong", "sender_email": "ana@c.example",
          "received_at": 100.0, "state": "ticket", "flags": "[]"}, "<a1@c.example>"),
        # version 1 moved our own mail and a late auto-reply into the ticket: both stay off it now
        ({**thread_a, "message_id": "a2", "subject": "Re: Invoice wrong", "sender_email": "support@acme.example",
          "received_at": 200.0, "state": "ticket", "flags": '["automated", "own_outbound"]'}, "<a2@acme.example>"),
        ({**thread_a, "message_id": "a3", "subject": "Out of office", "sender_email": "ana@c.example",
          "received_at": 300.0, "state": "ticket", "flags": '["automated", "auto_reply", "mailing_list"]'}, ""),
        ({"thread_id": "tB", "ticket_id": "", "message_id": "b1", "subject": "Login", "sender_email": "bo@d.example",
          "received_at": 150.0, "state": "new", "flags": "[]"}, "<same@d.example>"),
        ({"thread_id": "tB", "ticket_id": "", "message_id": "b2", "subject": "Login", "sender_email": "bo@d.example",
          "received_at": 150.0, "state": "new", "flags": "[]"}, "<same@d.example>"),
        ({"thread_id": "", "ticket_id": "", "message_id": "c1", "subject": "Hello", "sender_email": "cy@e.example",
          "received_at": 50.0, "state": "dismissed", "flags": "[]"}, "<c1@e.example>"),
    ], [dict(ticket_id="T-1", tenant_id="acme", environment="test", grant_id="g1", thread_id="tA",
             category="billing", urgency="high", status="open", created_at=110.0, created_by="ana",
             decision_id="")])
    migrated = store_db.open_url(db_url)
    try:
        by_thread = {c.thread_id: c for c in ConversationRow.select()}
        assert set(by_thread) == {"tA", "tB", "c1"}
        a = by_thread["tA"]
        assert (a.ticket_id, a.ticket_status, a.state) == ("T-1", "open", "open")
        assert (a.message_count, a.customer_count, a.message_id, a.answered_at) == (3, 1, "a1", 200.0)
        assert a.sla_started_at is None and "auto_reply" in a.flags
        kinds = {m.message_id: m.kind for m in MessageRow.select()}
        assert (kinds["a1"], kinds["a2"], kinds["a3"]) == ("customer", "own_outbound", "auto_reply")
        copies = {m.message_id: m.rfc_message_id for m in MessageRow.select().where(MessageRow.thread_id == "tB")}
        assert copies == {"b1": "<same@d.example>", "b2": None}  # the first copy keeps the id
        assert by_thread["tB"].message_count == 2 and by_thread["tB"].state == "new"
        assert by_thread["c1"].state == "dismissed"
        assert all(m.conversation_id is not None for m in MessageRow.select())
        assert MessageBody.select().count() == 6  # adding columns never rebuilt (and emptied) a table
    finally:
        migrated.close()
        database.initialize(None)
