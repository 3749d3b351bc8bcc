"""`triage-tui init` against the sandbox, as a new user runs it."""

from __future__ import annotations

import re

from tests.provision.conftest import init, lines
from tests.sandbox.helpers import Receiver
from triage_tui.config import load_config

SUPPORT = "support@sandbox.nylas.email"


def test_from_nothing_to_a_guarded_inbox_then_a_second_run_reuses_everything(home, receiver):
    first = init(home, "--non-interactive", "--email", SUPPORT, "--webhook-url", receiver.url)
    assert first.exit_code == 0, first.output
    assert len(lines(first, "created")) == 11  # 3 lists, 3 rules, policy, workspace, webhook, db, config
    assert [line.split()[1] for line in lines(first, "moved")] == ["account"]
    secret = re.search(r"NYLAS_WEBHOOK_SECRET=([0-9a-f]{64})", first.stdout).group(1)
    assert receiver.challenges  # Nylas (the sandbox) checked the URL first

    config = load_config(home.config)
    inbox = config.inbox(home.sb.grant_id)
    assert config.environment == "test" and config.nylas.api_uri == home.sb.api_uri
    assert config.webhook.public_url == receiver.url and config.webhook.webhook_id
    text = home.config.read_text()
    assert home.sb.api_key not in text and secret not in text
    grant = home.sb.admin("GET", f"/v3/grants/{home.sb.grant_id}").json()["data"]
    workspace = home.sb.admin("GET", f"/v3/workspaces/{inbox.workspace_id}").json()["data"]
    assert grant["workspace_id"] == inbox.workspace_id and workspace["policy_id"] == inbox.policy_id
    assert len(workspace["rule_ids"]) == 3
    hook = home.sb.admin("GET", f"/v3/webhooks/{config.webhook.webhook_id}").json()["data"]
    assert set(hook["trigger_types"]) >= {"message.created", "message.updated", "message.bounced"}

    before = home.counts()
    again = init(home, "--non-interactive")
    assert again.exit_code == 0, again.output
    assert not lines(again, "created") and not lines(again, "updated") and not lines(again, "moved")
    assert len(lines(again, "reused")) == 12
    assert "Everything was already set up" in again.stdout and "NYLAS_WEBHOOK_SECRET=" not in again.stdout
    assert home.counts() == before and load_config(home.config) == config

    rotated = init(home, "--non-interactive", "--rotate-secret")
    assert [line.split()[:2] for line in lines(rotated, "rotated")] == [["rotated", "webhook"]]
    new_secret = re.search(r"NYLAS_WEBHOOK_SECRET=([0-9a-f]{64})", rotated.stdout).group(1)
    assert new_secret != secret and home.counts() == before


def test_interactive_first_run_creates_a_new_agent_account_and_polls(home):
    answers = "\n".join(["n", "triage@sandbox.nylas.email", "Triage bot", "", "y"]) + "\n"
    result = init(home, input=answers)
    assert result.exit_code == 0, result.output
    assert "1) support@sandbox.nylas.email" in result.stdout and "Plan:" in result.stdout
    assert "the worker polls" in result.stdout and "Next: triage-tui doctor, then triage-tui" in result.stdout
    inbox = load_config(home.config).inboxes[0]
    assert inbox.email == "triage@sandbox.nylas.email" and inbox.name == "Triage bot"
    created = home.sb.admin("GET", f"/v3/grants/{inbox.grant_id}").json()["data"]
    assert created["name"] == "Triage bot" and created["workspace_id"] == inbox.workspace_id
    # the configured account is the default answer the next time
    again = init(home, input="\n\n")
    assert again.exit_code == 0 and "Everything was already set up" in again.stdout


def test_dry_run_reads_everything_and_writes_nothing(home):
    before = home.counts()
    result = init(home, "--dry-run", "--non-interactive", "--email", "new@sandbox.nylas.email")
    assert result.exit_code == 0, result.output
    assert len(lines(result, "would")) == 11 and "nothing was created or written" in result.stdout
    assert home.counts() == before
    assert not home.config.exists() and not home.ruleset.exists()


def test_an_edited_ruleset_updates_lists_and_policy_and_blocks_the_sender(home):
    assert init(home, "--non-interactive", "--email", SUPPORT).exit_code == 0
    text = home.ruleset.read_text().replace("block_domains = []", 'block_domains = ["Evil.example"]')
    home.ruleset.write_text(text.replace("spam_sensitivity = 1.0", "spam_sensitivity = 3.5"))
    result = init(home, "--non-interactive")
    assert result.exit_code == 0, result.output
    updated = [line.split("[")[0].split(maxsplit=1)[1].strip() for line in lines(result, "updated")]
    assert updated == ["list       triage-tui blocked domains", "policy     triage-tui"]
    assert home.sb.deliver(from_="mallory@evil.example", subject="hi")["blocked"] is True
    assert home.sb.deliver(from_="alice@good.example", subject="hi")["blocked"] is False


def test_a_failure_midway_names_what_exists_and_a_rerun_finishes(home):
    home.sb.set_faults(script=[{"status": 500, "method": "POST", "path": "/v3/workspaces"}])
    failed = init(home, "--non-interactive", "--email", SUPPORT)
    assert failed.exit_code == 1
    assert "init stopped: creating the workspace triage-tui" in failed.stderr
    kept = failed.stderr.split("What exists now (nothing was undone):")[1]
    assert len(re.findall(r"\[[0-9a-f-]{36}\]", kept)) == 7  # 3 lists, 3 rules, the policy
    assert not home.config.exists()
    finished = init(home, "--non-interactive", "--email", SUPPORT)
    assert finished.exit_code == 0, finished.output
    assert [line.split()[1] for line in lines(finished, "created")] == ["workspace", "database", "config"]


BAD_INPUT = [
    ((), {"NYLAS_API_KEY": ""}, 2, "NYLAS_API_KEY is not set"),
    (("--non-interactive",), {}, 2, "pass --email ADDRESS"),
    (("--non-interactive", "--api-uri", "https://api.us.nylas.com"), {}, 2, "pass --environment production"),
    (("--non-interactive", "--grant-id", "nope"), {}, 1, "nope is not a grant of this application"),
    (("--non-interactive", "--email", "x@unregistered.example"), {}, 1, "not registered"),
]


def test_bad_input_is_reported_in_one_line(home, monkeypatch):
    for args, env, code, message in BAD_INPUT:
        with monkeypatch.context() as patched:
            for name, value in env.items():
                patched.setenv(name, value)
            result = init(home, *args)
        assert result.exit_code == code, result.output
        assert message in result.stderr.splitlines()[0]
        assert not home.config.exists()


def test_a_revoked_key_and_a_receiver_that_ignores_the_challenge(home):
    silent = Receiver(echo_challenge=False)
    try:
        result = init(home, "--non-interactive", "--email", SUPPORT, "--webhook-url", silent.url)
    finally:
        silent.close()
    assert result.exit_code == 1 and "did not echo the challenge" in result.stderr
    assert "triage-tui webhook --challenge-only" in result.stderr
    home.sb.keys(revoke=[home.sb.api_key])
    refused = init(home, "--non-interactive", "--email", SUPPORT)
    assert refused.exit_code == 1 and len(refused.stderr.splitlines()) == 1
    assert "401" in refused.stderr


def test_the_bundled_ruleset_parses_and_a_broken_one_is_named_with_its_line(home):
    from triage_tui.provision.ruleset import default_text, parse_ruleset

    bundled = parse_ruleset(default_text())
    assert bundled.policy.spam_detection["use_list_dnsbl"] is True and bundled.inbound.block_domains == []
    home.ruleset.parent.mkdir(parents=True)
    home.ruleset.write_text('[inbound]\nspam_domains = ["ok.example", "not a domain"]\n')
    result = init(home, "--non-interactive", "--email", SUPPORT)
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"triage-tui: {home.ruleset}:2: inbound.spam_domains: "
                                     "'not a domain' is not a domain")
    assert home.counts()["policies"] == 1  # nothing was created
