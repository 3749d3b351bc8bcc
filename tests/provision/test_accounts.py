"""`triage-tui accounts list|show|delete` against the sandbox."""

from __future__ import annotations

import json

from tests.provision.conftest import cli, init
from triage_tui.config import load_config

SUPPORT = "support@sandbox.nylas.email"
OTHER = "other@sandbox.nylas.email"


def test_list_show_and_delete_with_the_address_typed_back(home):
    assert init(home, "--non-interactive", "--email", SUPPORT).exit_code == 0
    assert init(home, "--non-interactive", "--email", OTHER, "--name", "Other").exit_code == 0
    listed = cli("accounts", "list")
    assert listed.exit_code == 0
    marked = {line.split()[1]: line.startswith("*") for line in listed.stdout.splitlines()}
    assert marked == {SUPPORT: True, OTHER: True}
    rows = json.loads(cli("accounts", "list", "--json").stdout)
    assert {r["workspace"] for r in rows} == {"triage-tui"}

    shown = json.loads(cli("accounts", "show", OTHER, "--json").stdout)
    assert shown["name"] == "Other" and shown["policy"] == "triage-tui" and len(shown["rule_ids"]) == 3
    assert shown["limits"]["limit_inbox_retention_period"] == 30

    refused = cli("accounts", "delete", OTHER, input="support@sandbox.nylas.email\n")
    assert refused.exit_code == 1 and "not deleted" in refused.stderr
    assert len(load_config(home.config).inboxes) == 2

    deleted = cli("accounts", "delete", OTHER.upper(), input=f"{OTHER}\n")
    assert deleted.exit_code == 0, deleted.output
    assert "all of its mail" in deleted.stdout and "Removed its [[inboxes]] entry" in deleted.stdout
    assert [i.email for i in load_config(home.config).inboxes] == [SUPPORT]
    assert [r["email"] for r in json.loads(cli("accounts", "list", "--json").stdout)] == [SUPPORT]

    scripted = cli("accounts", "delete", home.sb.grant_id, "--confirm", SUPPORT)
    assert scripted.exit_code == 0 and load_config(home.config).inboxes == []
    assert "No Agent Account yet" in cli("accounts", "list").stdout


def test_an_unknown_account_and_a_missing_key_are_one_line(home, monkeypatch):
    assert init(home, "--non-interactive", "--email", SUPPORT).exit_code == 0
    unknown = cli("accounts", "show", "nobody@sandbox.nylas.email")
    assert unknown.exit_code == 1 and len(unknown.stderr.splitlines()) == 1
    monkeypatch.setenv("NYLAS_API_KEY", "")
    keyless = cli("accounts", "list")
    assert keyless.exit_code == 2 and keyless.stderr.startswith("triage-tui: NYLAS_API_KEY is not set")
