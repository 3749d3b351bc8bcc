"""Runbook commands: pause, resume and audit export, through the real CLI group."""

import json

import pytest
from click.testing import CliRunner

from triage_tui.cli import main
from triage_tui.outbound.commands import parse_duration, parse_since
from triage_tui.store.control import read_stop_switch
from triage_tui.store.db import open_url
from triage_tui.store.models import OutboxRow, database
from tests.outbound.helpers import store_message, make_config
from tests.outbound.scenarios import write_config


@pytest.fixture
def cli_config(tmp_path):
    url = f"sqlite:///{tmp_path / 'triage.db'}"
    path = write_config(tmp_path / "config.toml", make_config(url))
    yield path, url
    database.initialize(None)


def invoke(path, *args):
    return CliRunner().invoke(main, ["--config", path, *args], catch_exceptions=False)


def seed_waiting(url, count):
    from triage_tui.domain import Address, Reply
    from triage_tui.outbound.approval import approve_reply

    open_url(url)
    config = make_config(url)
    for _ in range(count):
        mid = store_message()
        reply = Reply(grant_id=config.inboxes[0].grant_id, reply_to_message_id=mid,
                      to=[Address(email="alice@customer.example")], subject="Re: Help", body="ok")
        approve_reply(reply, actor="dana", config=config, message_id=mid, grant_id=reply.grant_id)


def test_pause_and_resume_report_waiting_sends_and_delete_nothing(cli_config):
    path, url = cli_config
    seed_waiting(url, 3)
    result = invoke(path, "pause", "--reason", "bad template", "--for", "30m", "--actor", "ops")
    assert result.exit_code == 0, result.output
    assert "stop switch ON until" in result.output and "3 send(s) waiting" in result.output
    open_url(url)
    switch = read_stop_switch()
    assert switch.on and switch.actor == "ops" and switch.reason == "bad template" and switch.until
    assert OutboxRow.select().where(OutboxRow.state == "pending").count() == 3
    result = invoke(path, "resume", "--actor", "ops")
    assert result.exit_code == 0 and "stop switch OFF; 3 send(s) will go" in result.output
    open_url(url)
    assert not read_stop_switch().on and OutboxRow.select().count() == 3


@pytest.mark.parametrize("args,message", [
    (["pause", "--reason", "x", "--for", "soon"], "not a duration"),
    (["pause", "--reason", "  "], "--reason must not be empty"),
    (["audit", "export", "--since", "yesterday-ish"], "not a time"),
])
def test_bad_input_is_one_clear_line(cli_config, args, message):
    path, _ = cli_config
    result = CliRunner().invoke(main, ["--config", path, *args])
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output


def test_audit_export_writes_jsonl_oldest_first(cli_config, tmp_path):
    path, url = cli_config
    seed_waiting(url, 2)
    invoke(path, "pause", "--reason", "drill")
    result = invoke(path, "audit", "export")
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["action"] for line in lines] == ["outbox.approved", "outbox.approved", "stop_switch.on"]
    assert lines[0]["command_result_id"] and lines[2]["detail"]["reason"] == "drill"
    out = tmp_path / "audit.jsonl"
    result = invoke(path, "audit", "export", "--since", "1h", "--format", "jsonl", "-o", str(out))
    assert len(out.read_text().splitlines()) == 3
    future = invoke(path, "audit", "export", "--since", "2999-01-01T00:00")
    assert future.output == ""


def test_durations_and_times():
    assert parse_duration("30m").total_seconds() == 1800
    assert parse_duration("1h30m").total_seconds() == 5400
    assert parse_duration("45").total_seconds() == 2700
    with pytest.raises(ValueError):
        parse_duration("0m")
    assert parse_since("2026-11-27T03:00").tzinfo is not None


def test_commands_have_help():
    for name in (["pause"], ["resume"], ["audit", "export"]):
        result = CliRunner().invoke(main, [*name, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output
