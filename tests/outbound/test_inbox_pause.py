"""`pause --inbox EMAIL`: one inbox's sends and tracker writes wait while the other inbox's go out."""

from __future__ import annotations

import json
import time

from click.testing import CliRunner

from triage_tui.cli import main
from triage_tui.config import Config, DatabaseConfig, InboxConfig, NylasConfig
from triage_tui.domain import Address, Reply
from triage_tui.nylas.gateway import Gateway
from triage_tui.outbound.approval import approve_reply
from triage_tui.outbound.dispatcher import dispatch_once
from triage_tui.outbound.tracker_claims import begin_write, claim_next
from triage_tui.store.audit import list_audit
from triage_tui.store.db import open_url, write_transaction
from triage_tui.store.models import TrackerWriteRow
from triage_tui.store.outbox import get_entry
from tests.outbound.helpers import deliver_and_store

GRANTS = ["grant-east", "grant-west"]
EMAILS = ["east@acme.nylas.email", "west@acme.nylas.email"]


def _config(tmp_path, db_url, sandbox) -> tuple[Config, str]:
    inboxes = "".join(f'[[inboxes]]\ngrant_id = "{g}"\nemail = "{e}"\n' for g, e in zip(GRANTS, EMAILS))
    path = tmp_path / "config.toml"
    path.write_text(f'tenant_id = "acme"\nenvironment = "test"\n[nylas]\napi_uri = "{sandbox.api_uri}"\n'
                    f'{inboxes}[database]\nurl = "{db_url}"\n', encoding="utf-8")
    config = Config(tenant_id="acme", environment="test",
                    nylas=NylasConfig(api_uri=sandbox.api_uri, max_requests_per_s=10_000, timeout_s=10),
                    inboxes=[InboxConfig(grant_id=g, email=e) for g, e in zip(GRANTS, EMAILS)],
                    database=DatabaseConfig(url=db_url))
    return config, str(path)


def cli(path, db_url, *args):
    result = CliRunner().invoke(main, ["--config", path, *args], catch_exceptions=False)
    open_url(db_url)  # the command opened its own connection; the test goes on with the store
    return result


def _approved(config, sandbox, grant_id, email):
    sandbox.grant_id = grant_id  # deliver_and_store writes into the sandbox's current grant
    mid = deliver_and_store(sandbox, subject=f"Help {grant_id}")
    reply = Reply(grant_id=grant_id, reply_to_message_id=mid, to=[Address(email="alice@customer.example")],
                  subject=f"Re: Help {grant_id}", body="On it.")
    return approve_reply(reply, actor="dana", config=config, message_id=mid, grant_id=grant_id)


def test_a_paused_inbox_holds_its_send_while_the_other_goes_out(db, db_url, tmp_path, make_sandbox):
    sandbox = make_sandbox(messages=0, grant_ids=GRANTS, emails=EMAILS)
    config, path = _config(tmp_path, db_url, sandbox)
    east, west = (_approved(config, sandbox, g, e) for g, e in zip(GRANTS, EMAILS))
    result = cli(path, db_url, "pause", "--inbox", EMAILS[0].upper(), "--reason", "bounces", "--actor", "ops")
    assert result.exit_code == 0 and f"inbox {EMAILS[0]} PAUSED" in result.output, result.output
    status = json.loads(cli(path, db_url, "status", "--json").output)
    assert status["paused_inboxes"][EMAILS[0]]["reason"] == "bounces"
    assert "inbox PAUSED         east@acme.nylas.email by ops: bounces" in cli(path, db_url, "status").output
    gateway = Gateway(config.nylas, sandbox.api_key)
    report = dispatch_once(config, gateway, owner="w1")
    assert report.sent == 1 and get_entry(west.command_result_id).state == "sent"
    assert get_entry(east.command_result_id).state == "pending"
    assert [m["subject"] for m in sandbox.sent(GRANTS[0])] == []
    # a tracker write of the paused inbox waits too; one of the other inbox is claimed
    now = time.time()
    with write_transaction():
        for grant in GRANTS:
            TrackerWriteRow.create(command_result_id=f"cr-{grant}", dedupe_key=f"dk-{grant}", tracker="github",
                                   kind="github", op="create", ticket_id=f"T-{grant}", grant_id=grant,
                                   created_at=now, updated_at=now)
    claim, paused = claim_next(config, "github", "w1", now)
    if claim is not None and claim.row.grant_id == GRANTS[0]:
        raise AssertionError("claimed a tracker write of the paused inbox")
    claim = claim or claim_next(config, "github", "w1", now)[0]
    assert claim.row.grant_id == GRANTS[1] and begin_write(claim, now, 30) == "started"
    assert TrackerWriteRow.get(TrackerWriteRow.grant_id == GRANTS[0]).state == "retry"
    result = cli(path, db_url, "resume", "--inbox", EMAILS[0], "--actor", "ops")
    assert result.exit_code == 0 and "1 send(s) of it will go" in result.output
    assert dispatch_once(config, gateway, owner="w1").sent == 1
    assert get_entry(east.command_result_id).state == "sent"
    key = f"inbox_pause:{GRANTS[0]}"
    assert [e.action for _, e in list_audit(action=key)] == [f"{key}.off", f"{key}.on"]
    assert [e.detail["inbox"] for _, e in list_audit(action=key)] == [EMAILS[0]] * 2


def test_an_unknown_inbox_is_one_line_and_a_non_zero_exit(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[[inboxes]]\ngrant_id = "g"\nemail = "a@acme.example"\n'
                    f'[database]\nurl = "sqlite:///{tmp_path / "t.db"}"\n', encoding="utf-8")
    for args in (["pause", "--inbox", "nobody@acme.example", "--reason", "x"], ["resume", "--inbox", "nobody@x"]):
        result = CliRunner().invoke(main, ["--config", str(path), *args])
        assert result.exit_code != 0
        assert result.output.strip().count("\n") == 0 and "no inbox" in result.output and "a@acme.example" in result.output
