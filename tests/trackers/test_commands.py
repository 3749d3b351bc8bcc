"""`tickets list|retry|sync`, `pause|resume --trackers`, `status` and the tracker config, as a runbook uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage_tui.cli import main
from triage_tui.config import TRACKER_MODELS, ConfigError, parse_config
from triage_tui.store.control import STOP_SWITCH, read_stop_switch
from triage_tui.store.tracker_writes import enqueue_create
from tests.trackers.helpers import GRANT, facts, make_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def _write_config(tmp_path, db_url, fake_url: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(
        f'tenant_id = "acme"\n[[inboxes]]\ngrant_id = "{GRANT}"\nemail = "support@acme.example"\ntracker = "gh"\n'
        f'[database]\nurl = "{db_url}"\n[tracking]\nmax_backoff_s = 5.0\n'
        f'[trackers.gh]\nkind = "github"\napi_url = "{fake_url}"\nrepo = "acme/support"\nmin_interval_s = 0.0\n',
        encoding="utf-8")
    return str(path)


def _run(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_a_runbook_lists_syncs_pauses_and_retries_tracker_writes(db, db_url, tmp_path, make_fake, monkeypatch):
    fake = make_fake("github")
    path = _write_config(tmp_path, db_url, fake.url)
    config = make_config(db_url, trackers={"gh": {"kind": "github", "api_url": fake.url, "repo": "acme/support"}},
                         default="gh")
    first, second = facts("TKT-one"), facts("TKT-two")
    enqueue_create(config, first, actor="dana")
    code, out = _run("--config", path, "tickets", "list")
    assert code == 0 and "TKT-one  no tracker key yet" in out and "create  gh           pending" in out
    code, out = _run("--config", path, "pause", "--trackers", "--reason", "tracker flood")
    assert code == 0 and "tracker writes PAUSED" in out and "1 tracker write(s) waiting" in out
    assert not read_stop_switch(key=STOP_SWITCH).on  # customer mail is not paused by it
    code, out = _run("--config", path, "tickets", "sync")
    assert "paused" in out and fake.state()["items"] == []
    _run("--config", path, "resume", "--trackers")
    code, out = _run("--config", path, "tickets", "sync")
    assert code == 0 and "gh: 1 written of 1 attempted" in out
    code, out = _run("--config", path, "tickets", "list", "--json")
    listed = [json.loads(line) for line in out.splitlines()]
    assert listed[0]["links"][0]["external_key"] == "acme/support#1" and listed[0]["links"][0]["url"].endswith("/issues/1")
    monkeypatch.setenv("GITHUB_TOKEN", "revoked")
    enqueue_create(config, second, actor="dana")
    _run("--config", path, "tickets", "sync")
    code, out = _run("--config", path, "status")
    assert "tracker writes       0 pending, 1 failed" in out and "refuses our credentials" in out
    status = json.loads(_run("--config", path, "status", "--json")[1])
    assert status["tracker_writes_by_tracker"]["gh"] == {"done": 1, "failed": 1}
    monkeypatch.setenv("GITHUB_TOKEN", fake.token)
    code, out = _run("--config", path, "tickets", "retry", "TKT-two")
    assert code == 0 and "1 tracker write(s) queued again" in out
    _run("--config", path, "tickets", "sync")
    assert len(fake.state()["items"]) == 2
    code, out = _run("--config", path, "tickets", "retry", "TKT-two")
    assert code == 1


def test_tickets_commands_fail_with_one_line_on_a_broken_config(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[trackers.gh]\nkind = "github"\nrepo = "acme/support"\ntoken = "ghp_secret"\n')
    result = CliRunner().invoke(main, ["--config", str(path), "tickets", "list"])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "token: Extra inputs" in result.output


def test_every_tracker_key_is_documented_in_the_example():
    text = EXAMPLE.read_text()
    keys = {name for model in TRACKER_MODELS for name in model.model_fields}
    assert sorted(k for k in keys if f"\n{k} =" not in text and f"#   {k} " not in text) == []
    config = parse_config(text)
    assert {t.kind for t in config.trackers.values()} == {"github", "jira", "linear", "zendesk", "webhook"}


@pytest.mark.parametrize(("text", "message"), [
    ('[tracking]\ndefault_tracker = "jira"\n', "tracking.default_tracker: no tracker named 'jira'"),
    ('[[inboxes]]\ngrant_id = "g"\nemail = "e@x"\ntracker = "zd"\n', "inboxes.g.tracker: no tracker named 'zd'"),
    ('[trackers.gh]\nkind = "gitlab"\n', "does not match any of the expected tags"),
    ('[trackers.gh]\nkind = "github"\nrepo = "acme"\n', "String should match pattern"),
])
def test_routing_names_only_trackers_that_exist(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(text)


@pytest.mark.parametrize("kind", ["github", "jira", "linear", "zendesk", "webhook"])
def test_the_config_the_sandbox_prints_for_a_fake_tracker_works(kind, make_fake, monkeypatch):
    from triage_tui.domain import TrackerOp
    from triage_tui.sandbox.trackers.runner import config_snippet
    from triage_tui.trackers.registry import build_tracker
    from tests.trackers.helpers import request

    fake = make_fake(kind)
    toml, env = config_snippet(fake)
    variable, _, value = env[0].removeprefix("export ").partition("=")
    monkeypatch.setenv(variable, value)
    config = parse_config("\n".join([*toml, "[tracking]", f'default_tracker = "sandbox-{kind}"']))
    tracker = build_tracker(config, f"sandbox-{kind}")
    assert tracker.write(request(TrackerOp.CREATE, facts().model_dump(mode="json"))).external_key
    tracker.close()
