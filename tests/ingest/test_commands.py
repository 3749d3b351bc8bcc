"""The worker, webhook and status commands, and the in-process background worker."""

from __future__ import annotations

import json
import socket
import time

import pytest
from click.testing import CliRunner

from triage_tui.cli import main
from triage_tui.ingest.runner import BackgroundWorker
from triage_tui.store.models import MessageRow, database

from .conftest import gateway_for


@pytest.fixture
def unbind():
    yield
    if database.obj is not None and not database.obj.is_closed():
        database.obj.close()
    database.initialize(None)


def config_file(tmp_path, api_uri: str, grant_id="g1", email="support@acme.example", db_name="cli.db"):
    path = tmp_path / "config.toml"
    path.write_text(f"""
[nylas]
api_uri = "{api_uri}"
max_retries = 0
timeout_s = 3
[[inboxes]]
grant_id = "{grant_id}"
email = "{email}"
[database]
url = "sqlite:///{tmp_path / db_name}"
[classifier]
chain = ["rules"]
""")
    return str(path)


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_worker_once_then_status(tmp_path, make_sandbox, unbind):
    sandbox = make_sandbox(messages=15)
    path = config_file(tmp_path, sandbox.api_uri, sandbox.grant_id, sandbox.email)
    result = run("--config", path, "worker", "--once", env={"NYLAS_API_KEY": sandbox.api_key})
    assert result.exit_code == 0, result.output
    assert f"{len(sandbox.truth())} new" in result.output
    status = run("--config", path, "status", "--json")
    assert status.exit_code == 0
    counts = json.loads(status.output)
    assert counts["messages"] == len(sandbox.truth())
    assert counts["last_sync"][0]["grant_id"] == sandbox.grant_id
    assert (counts["environment"], counts["outbox_waiting"], counts["stop_switch"]["on"]) == ("test", 0, False)
    assert "pending suggestions" in run("--config", path, "status").output
    assert run("--config", path, "pause", "--reason", "runbook drill").exit_code == 0
    paused = json.loads(run("--config", path, "status", "--json").output)
    assert paused["stop_switch"]["on"] and paused["stop_switch"]["reason"] == "runbook drill"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_worker_once_fails_in_one_line(tmp_path, make_sandbox, unbind):
    down = config_file(tmp_path, f"http://127.0.0.1:{_closed_port()}")
    result = run("--config", down, "worker", "--once", env={"NYLAS_API_KEY": "k"})
    assert result.exit_code == 1 and "cannot reach the API" in result.output
    assert len(result.output.strip().splitlines()) == 1
    sandbox = make_sandbox(messages=1)
    wrong_key = config_file(tmp_path, sandbox.api_uri, sandbox.grant_id)
    result = run("--config", wrong_key, "worker", "--once", env={"NYLAS_API_KEY": "wrong"})
    assert result.exit_code == 1 and "refused" in result.output
    assert run("--config", wrong_key, "worker", "--once", env={"NYLAS_API_KEY": ""}).exit_code == 1


def test_bad_config_dead_database_and_missing_secret(tmp_path, unbind):
    bad = tmp_path / "bad.toml"
    bad.write_text("[worker]\npoll_interval_s = 'often'\n")
    result = run("--config", str(bad), "status")
    assert result.exit_code == 2 and "poll_interval_s" in result.output
    dead = tmp_path / "dead.toml"
    (tmp_path / "file").write_text("x")
    dead.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "file" / "sub" / "x.db"}"\n')
    result = run("--config", str(dead), "status")
    assert result.exit_code != 0 and "Traceback" not in result.output
    path = config_file(tmp_path, "http://127.0.0.1:1")
    result = run("--config", path, "webhook", env={"NYLAS_WEBHOOK_SECRET": ""})
    assert result.exit_code == 2 and "NYLAS_WEBHOOK_SECRET" in result.output


def test_background_worker_syncs_and_wakes_on_demand(db, make_sandbox, ingest_config, rules_classifier):
    sandbox = make_sandbox(messages=10)
    config = ingest_config(sandbox, poll_interval_s=60)
    ticks = []
    runner = BackgroundWorker(config, gateway=gateway_for(config, sandbox), classifier=rules_classifier,
                              extra_tasks=[lambda: ticks.append(1)])
    runner.start()
    try:
        _wait(lambda: runner.progress().ingested == len(sandbox.truth()))
        assert runner.progress().last_sync_at is not None and ticks
        sandbox.deliver(subject="New outage", body="all down", **{"from": "ana@customer.example"})
        runner.sync_now()
        _wait(lambda: runner.progress().ingested == len(sandbox.truth()) + 1)
    finally:
        runner.stop()
    assert not runner._thread.is_alive()
    assert MessageRow.select().count() == len(sandbox.truth()) + 1


def _wait(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
