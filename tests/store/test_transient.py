"""The one database-error path: what is transient, what reconnects, and the one line users see."""

from __future__ import annotations

import sqlite3
import threading
import time

import psycopg2
import pytest
from click.testing import CliRunner
from peewee import IntegrityError, InterfaceError, OperationalError

from triage_tui.cli import main
from triage_tui.store import transient
from triage_tui.store.control import read_stop_switch, set_stop_switch
from triage_tui.store.models import ControlRow, Meta, database


def wrapped(driver_error: Exception, peewee_type=OperationalError) -> Exception:
    """An error as peewee raises it: the driver's error is its first argument."""
    return peewee_type(driver_error, *driver_error.args)


def test_errors_are_sorted_into_transient_and_not():
    busy = wrapped(sqlite3.OperationalError("database is locked"))
    gone = wrapped(psycopg2.OperationalError("server closed the connection unexpectedly\nThis probably..."))
    closed = wrapped(psycopg2.InterfaceError("connection already closed"), InterfaceError)
    full = wrapped(sqlite3.OperationalError("database or disk is full"))
    duplicate = wrapped(sqlite3.IntegrityError("UNIQUE constraint failed: messages.id"), IntegrityError)
    assert transient.transient_cause(busy) == "a busy database"
    assert transient.is_disconnect(gone) and transient.is_disconnect(closed)
    assert not transient.is_transient(full) and transient.is_disk_full(full)
    assert not transient.is_transient(duplicate) and not transient.is_transient(ValueError("locked"))


def test_the_one_line_names_the_database_without_its_password():
    class Fake:
        triage_url = "postgresql://triage:s3cret@db.internal:5432/triage"

    line = transient.describe(wrapped(psycopg2.OperationalError("server closed the connection\nmore")), Fake())
    assert line == "the database at postgresql://triage:***@db.internal:5432/triage is unreachable " \
                   "(server closed the connection)"
    assert "s3cret" not in line and "\n" not in line


def test_a_deadlock_is_retried_and_its_transaction_runs_again(db, db_url):
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL deadlock detection")
    Meta.insert_many([{"key": "a", "value": "0"}, {"key": "b", "value": "0"}]).execute()
    barrier = threading.Barrier(2)
    runs: list[str] = []

    def swap(first: str, second: str) -> None:
        def transaction():
            runs.append(first)
            with database.atomic():
                Meta.update(value=first).where(Meta.key == first).execute()
                if len(runs) <= 2:
                    barrier.wait(5)  # both hold one row and want the other's: PostgreSQL kills one
                Meta.update(value=first).where(Meta.key == second).execute()
        try:
            transient.retrying(transaction)
        finally:
            database.close()

    threads = [threading.Thread(target=swap, args=pair) for pair in (("a", "b"), ("b", "a"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(runs) == 3, runs  # the deadlock victim ran again and committed
    assert Meta.get(Meta.key == "a").value == Meta.get(Meta.key == "b").value


def test_the_stop_switch_waits_for_a_claim_briefly_and_then_flips(db, db_url):
    if db_url.startswith("sqlite"):
        pytest.skip("row locks are PostgreSQL's")
    set_stop_switch(False, actor="setup")
    holder = psycopg2.connect(db_url)
    cursor = holder.cursor()
    cursor.execute("SELECT * FROM control WHERE key = 'stop_switch' FOR UPDATE")  # a claim in progress
    threading.Timer(2.5, holder.commit).start()  # longer than the flip's lock timeout
    started = time.monotonic()
    switch = set_stop_switch(True, actor="oncall", reason="incident")
    waited = time.monotonic() - started
    holder.close()
    assert switch.on and read_stop_switch().on and 2.0 < waited < 8
    assert ControlRow.get().version == 2


def test_commands_give_one_line_when_the_database_is_gone(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "postgresql://triage:pw@127.0.0.1:1/none"\nretry_for_s = 0.5\n')
    for args in (["status"], ["pause", "--reason", "x"], ["resume"], ["migrate"], ["audit", "export"]):
        result = CliRunner().invoke(main, ["--config", str(config), *args])
        assert result.exit_code == (2 if args == ["status"] else 1), (args, result.output)  # status: 2 is "down"
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("triage-tui: the database at postgresql://triage:***@"), lines
        assert "unreachable" in lines[0] and "Traceback" not in result.output


def test_migrate_says_what_it_applied_and_check_fails_while_behind(tmp_path):
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')
    runner = CliRunner()
    behind = runner.invoke(main, ["--config", str(config), "migrate", "--check"])
    assert behind.exit_code == 1 and "create the schema" in behind.output
    applied = runner.invoke(main, ["--config", str(config), "migrate"])
    assert applied.exit_code == 0 and "applied 1 step(s)" in applied.output
    assert "created the schema at version" in applied.output
    again = runner.invoke(main, ["--config", str(config), "migrate"])
    assert again.exit_code == 0 and "the schema is current" in again.output and "applied" not in again.output
    current = runner.invoke(main, ["--config", str(config), "migrate", "--check"])
    assert current.exit_code == 0 and "the schema is current" in current.output
    database.initialize(None)
