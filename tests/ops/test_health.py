"""/healthz, /readyz and `status` exit codes: healthy 0, degraded 1, down 2."""

from __future__ import annotations

import json
import socket
import time

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from triage_tui.cli import main
from triage_tui.config import Config, DatabaseConfig, InboxConfig, NylasConfig, OpsConfig
from triage_tui.ingest.receiver import build_app
from triage_tui.ops.health import Readiness
from triage_tui.store.control import set_stop_switch
from triage_tui.store.models import ControlRow, Meta, database
from triage_tui.store.watermarks import advance_watermark, record_sync_error


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def config_for(db_url: str, api_uri: str, grant_id: str = "sandbox-grant-0001") -> Config:
    return Config(nylas=NylasConfig(api_uri=api_uri), inboxes=[InboxConfig(grant_id=grant_id, email="s@x.example")],
                  database=DatabaseConfig(url=db_url), ops=OpsConfig(nylas_timeout_s=2))


def test_receiver_serves_health_readiness_and_metrics(db, db_url, make_sandbox, monkeypatch):
    sandbox = make_sandbox(messages=0)
    monkeypatch.setenv("NYLAS_API_KEY", sandbox.api_key)
    client = TestClient(build_app(config_for(db_url, sandbox.api_uri, sandbox.grant_id), secrets=["s3cret"]))
    assert client.get("/healthz").json()["status"] == "alive"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"]["ok"]
    assert "answered 200" in ready.json()["checks"]["nylas"]["detail"]
    client.post("/webhooks/nylas", content=b"{}", headers={"x-nylas-signature": "0" * 64})
    page = client.get("/metrics")
    assert page.headers["content-type"].startswith("text/plain")
    assert 'triage_webhook_requests_total{outcome="forged"}' in page.text and "triage_store_up 1.0" in page.text


def test_readiness_fails_on_a_refused_key_an_unreachable_api_and_a_schema_behind(db, db_url, make_sandbox,
                                                                                 monkeypatch):
    sandbox = make_sandbox(messages=0)
    monkeypatch.setenv("NYLAS_API_KEY", "not-the-key")
    refused = Readiness(config_for(db_url, sandbox.api_uri, sandbox.grant_id)).checks()
    assert [c.ok for c in refused] == [True, False] and "refused the API key" in refused[1].detail
    started = time.monotonic()
    gone = Readiness(config_for(db_url, f"http://127.0.0.1:{closed_port()}")).checks()
    assert not gone[1].ok and "cannot reach" in gone[1].detail and time.monotonic() - started < 5
    Meta.update(value="1").where(Meta.key == "schema_version").execute()
    behind = Readiness(config_for(db_url, sandbox.api_uri, sandbox.grant_id)).checks()
    assert not behind[0].ok and "schema behind" in behind[0].detail


def status_of(tmp_path, db_url: str, grant_id: str = "g1"):
    path = tmp_path / "config.toml"
    path.write_text(f'[[inboxes]]\ngrant_id = "{grant_id}"\nemail = "s@x.example"\n[database]\nurl = "{db_url}"\n'
                    '[ops]\nstale_sync_after_s = 600\n')
    result = CliRunner().invoke(main, ["--config", str(path), "status", "--json"])
    return result.exit_code, result


@pytest.fixture
def rebind(db):
    """`status` opens the store itself; give the test's binding back afterwards."""
    live = database.obj
    yield db
    database.initialize(live)


def test_status_exit_codes_healthy_degraded_down(tmp_path, db_url, rebind):
    code, result = status_of(tmp_path, db_url)
    health = json.loads(result.stdout)["health"]
    assert (code, health["status"]) == (1, "degraded") and "never completed a sync" in health["problems"][0]
    advance_watermark("g1", int(time.time()))
    code, result = status_of(tmp_path, db_url)
    assert (code, json.loads(result.stdout)["health"]) == (0, {"status": "healthy", "exit_code": 0, "problems": []})
    set_stop_switch(True, actor="dana", reason="incident")
    ControlRow.update(since=time.time() - 7200).execute()
    record_sync_error("g1", "cannot reach the API\nsecond line")
    code, result = status_of(tmp_path, db_url)
    problems = json.loads(result.stdout)["health"]["problems"]
    assert code == 1 and len(problems) == 2 and "cannot reach the API" in problems[0] and "stop switch" in problems[1]
    human = CliRunner().invoke(main, ["--config", str(tmp_path / "config.toml"), "status"])
    assert human.exit_code == 1 and "health               degraded" in human.stdout
    dead = f"postgresql://triage@127.0.0.1:{closed_port()}/nothing"
    code, result = status_of(tmp_path, dead)
    assert code == 2 and json.loads(result.stdout)["health"]["status"] == "down"
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("triage-tui: ")


def test_a_worker_whose_metrics_port_is_taken_stops_with_one_line_instead_of_sharing_it(tmp_path, db_url, rebind):
    path = tmp_path / "config.toml"
    path.write_text(f'[nylas]\napi_uri = "http://127.0.0.1:{closed_port()}"\n'
                    f'[[inboxes]]\ngrant_id = "g1"\nemail = "s@x.example"\n[database]\nurl = "{db_url}"\n')
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["--config", str(path), "worker", "--metrics-port", str(port)],
                                    env={"NYLAS_API_KEY": "k"})
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"triage-tui: cannot serve metrics on 127.0.0.1:{port}: Address already in use (give each worker its own port)"]
