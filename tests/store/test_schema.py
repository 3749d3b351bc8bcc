"""The store opens, migrates, refuses newer schemas and keeps text the same on every engine."""

from __future__ import annotations

import pytest

from triage_tui.store import db as store_db
from triage_tui.store.audit import iter_audit, list_audit
from triage_tui.store.control import read_stop_switch, set_stop_switch
from triage_tui.store.models import Meta, MessageRow
from triage_tui.store.text import db_safe


def test_new_database_is_created_at_the_current_version(db):
    assert store_db.schema_version(db) == store_db.SCHEMA_VERSION


def test_a_newer_schema_is_refused_with_a_clear_message(db, db_url):
    Meta.update(value=str(store_db.SCHEMA_VERSION + 1)).where(Meta.key == "schema_version").execute()
    db.close()
    with pytest.raises(store_db.StoreError, match="newer than this triage-tui understands"):
        store_db.open_url(db_url)


def test_an_older_schema_is_migrated_on_open_and_only_once(db, db_url, monkeypatch):
    from triage_tui.store import migrations

    applied = []
    steps = [*migrations.MIGRATIONS, migrations.Migration("test step", lambda d: applied.append(d))]
    monkeypatch.setattr(migrations, "MIGRATIONS", steps)
    monkeypatch.setattr(store_db, "SCHEMA_VERSION", len(steps))
    db.close()
    reopened = store_db.open_url(db_url)
    assert applied == [reopened]
    assert store_db.schema_version(reopened) == store_db.SCHEMA_VERSION
    reopened.close()
    store_db.open_url(db_url)
    assert len(applied) == 1


def test_sqlite_runs_in_wal_with_foreign_keys(db):
    if not store_db.is_sqlite(db):
        pytest.skip("SQLite pragmas only")
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_poison_text_is_stored_identically_on_every_engine(db):
    poison = "a\x00b \udcff \U000e0041\u202e"
    now = 1.0
    row = MessageRow.create(
        tenant_id="t", environment="test", grant_id="g", message_id="m",
        subject=db_safe(poison), received_at=now, created_at=now, updated_at=now,
    )
    stored = MessageRow.get_by_id(row.id).subject
    assert "\x00" not in stored
    assert stored == "ab \ufffd \U000e0041\u202e"


def test_stop_switch_needs_a_reason_and_is_audited(db):
    with pytest.raises(ValueError):
        set_stop_switch(True, actor="ana", reason="  ")
    state = set_stop_switch(True, actor="ana", reason="bad deploy")
    assert state.on and state.actor == "ana" and state.reason == "bad deploy"
    assert read_stop_switch().on
    set_stop_switch(False, actor="ben")
    assert not read_stop_switch().on
    assert [event.action for _, event in list_audit()] == ["stop_switch.off", "stop_switch.on"]
    assert [event.actor for event in iter_audit()] == ["ana", "ben"]


def test_an_expired_pause_reads_as_off(db):
    from datetime import datetime, timedelta, timezone

    until = datetime.now(timezone.utc) + timedelta(minutes=30)
    set_stop_switch(True, actor="ana", reason="maintenance", until=until)
    assert read_stop_switch().on
    assert not read_stop_switch(now=until.timestamp() + 1).on
