"""`triage-tui doctor`: passes on a fresh init, and names each broken setup in exactly one line."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.provision.conftest import cli, init, lines
from triage_tui.config import Config, DatabaseConfig, NylasConfig, OutboundConfig, load_config
from triage_tui.nylas.admin_types import PRODUCT_TRIGGERS, ApiProbe
from triage_tui.provision.doctor import check_clock, check_database, check_environment
from triage_tui.store.db import SCHEMA_VERSION, open_url
from triage_tui.store.models import database

SUPPORT = "support@sandbox.nylas.email"


def failures(result) -> list[str]:
    return lines(result, "FAIL")


def test_doctor_passes_after_init_then_names_each_breakage_in_one_line(home, receiver, monkeypatch):
    first = init(home, "--non-interactive", "--email", SUPPORT, "--webhook-url", receiver.url)
    secret = first.stdout.split("NYLAS_WEBHOOK_SECRET=")[1].split()[0]
    monkeypatch.setenv("NYLAS_WEBHOOK_SECRET", secret)
    healthy = cli("doctor")
    assert healthy.exit_code == 0, healthy.output
    assert len(lines(healthy, "ok")) == 10 and not failures(healthy)
    sb, config = home.sb, load_config(home.config)
    hook = f"/v3/webhooks/{config.webhook.webhook_id}"

    sb.admin("PUT", hook, {"trigger_types": ["message.created", "message.updated"]})
    missing = cli("doctor")
    assert missing.exit_code == 1 and len(failures(missing)) == 1
    assert "lacks the triggers message.delivered, message.bounced" in failures(missing)[0]
    report = json.loads(cli("doctor", "--json").stdout)
    assert report["ok"] is False and [c["name"] for c in report["checks"] if c["status"] == "fail"] == ["webhook"]
    sb.admin("PUT", hook, {"trigger_types": list(PRODUCT_TRIGGERS)})
    assert cli("doctor").exit_code == 0

    other = sb.admin("POST", "/v3/connect/custom", {"provider": "nylas",
                                                    "settings": {"email": "other@sandbox.nylas.email"}})
    good_text = home.config.read_text()
    home.config.write_text(good_text.replace(sb.grant_id, other.json()["data"]["id"]))
    wrong = cli("doctor")
    assert len(failures(wrong)) == 1 and "is other@sandbox.nylas.email, the config says" in failures(wrong)[0]
    home.config.write_text(good_text.replace(sb.grant_id, "no-such-grant"))
    gone = cli("doctor")
    assert len(failures(gone)) == 1 and "no-such-grant (support@" in failures(gone)[0]
    home.config.write_text(good_text)

    sb.admin("PATCH", f"/v3/workspaces/{config.inboxes[0].workspace_id}", {"policy_id": "pol-sandbox"})
    policy = cli("doctor")
    assert len(failures(policy)) == 1 and "has policy pol-sandbox, the config says" in failures(policy)[0]
    assert init(home, "--non-interactive").exit_code == 0 and cli("doctor").exit_code == 0

    sb.keys(revoke=[sb.api_key])
    revoked = cli("doctor")
    assert len(failures(revoked)) == 1 and failures(revoked)[0].split()[1:3] == ["api", "key"]
    assert "refused by" in failures(revoked)[0] and len(lines(revoked, "skip")) >= 3
    sb.keys(issue=[sb.api_key])

    sb.admin("DELETE", hook)
    deleted = cli("doctor")
    assert len(failures(deleted)) == 1 and f"{config.webhook.webhook_id} does not exist" in failures(deleted)[0]
    monkeypatch.delenv("NYLAS_WEBHOOK_SECRET")
    assert len(failures(cli("doctor"))) == 2  # and now the secret is missing here too


def test_doctor_without_a_config_fails_on_that_line_alone(home):
    result = cli("doctor")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith("FAIL  config") and "run `triage-tui init`" in result.stdout
    assert len(failures(result)) == 1


@pytest.mark.parametrize(("environment", "api_uri", "sink", "status"), [
    ("test", "http://127.0.0.1:8080", "", "ok"),
    ("test", "https://api.us.nylas.com", "", "fail"),
    ("test", "https://api.us.nylas.com", "http://127.0.0.1:9999", "ok"),
    ("production", "https://api.eu.nylas.com", "", "ok"),
    ("production", "http://localhost:8080", "", "fail"),
])
def test_environment_test_is_a_sandbox_and_production_is_not(environment, api_uri, sink, status):
    config = Config(environment=environment, nylas=NylasConfig(api_uri=api_uri),
                    outbound=OutboundConfig(sink_api_uri=sink))
    assert check_environment(config).status == status


def test_the_clock_is_compared_with_the_api_date_header():
    server = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
    probe = ApiProbe(server_date=server)
    assert check_clock(probe, lambda: server + timedelta(seconds=20)).status == "ok"
    late = check_clock(probe, lambda: server - timedelta(seconds=125))
    assert late.status == "fail" and "125 s behind" in late.detail
    assert check_clock(ApiProbe(), lambda: server).status == "warn"


def test_the_database_check_never_creates_or_migrates(db_url):
    config = Config(database=DatabaseConfig(url=db_url))
    assert check_database(config).status == "fail"  # empty: nothing is created
    assert check_database(config).status == "fail"
    db = open_url(db_url)
    try:
        assert check_database(config).status == "ok"
        db.execute_sql("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
        behind = check_database(config)
        assert behind.status == "fail" and f"needs {SCHEMA_VERSION}" in behind.detail
        db.execute_sql(f"UPDATE meta SET value = '{SCHEMA_VERSION + 1}' WHERE key = 'schema_version'")
        assert "newer than this triage-tui" in check_database(config).detail
    finally:
        db.close()
        database.initialize(None)
