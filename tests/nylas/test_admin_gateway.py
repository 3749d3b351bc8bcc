"""The admin gateway against the sandbox: typed results, error mapping, and no repeated creates."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from tests.sandbox.helpers import Receiver
from triage_tui.config import NylasConfig
from triage_tui.nylas.admin import AdminGateway
from triage_tui.nylas.admin_types import PRODUCT_TRIGGERS
from triage_tui.nylas.errors import AuthError, BadRequest, NotFound, ServerError


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(messages=0)


@pytest.fixture
def admin(sb, recorded_sleep):
    config = NylasConfig(api_uri=sb.api_uri, timeout_s=5.0, max_requests_per_s=1000.0, max_retries=3)
    return AdminGateway(config, sb.api_key, sleep=recorded_sleep.sleep, clock=recorded_sleep.clock,
                        rng=random.Random(5))


def test_accounts_workspaces_guardrails_and_webhooks_round_trip(sb, admin):
    probe = admin.probe()
    assert probe.grants_seen == 1
    assert abs((probe.server_date - datetime.now(timezone.utc)).total_seconds()) < 5
    grant = admin.create_agent_account("bot@sandbox.nylas.email", "Bot")
    assert grant.is_agent_account and grant.name == "Bot" and grant.workspace_id == "ws-sandbox"
    assert {g.email for g in admin.list_grants()} == {sb.email, "bot@sandbox.nylas.email"}

    blocked = admin.create_list("blocked", "domain")
    admin.change_items(blocked.id, add=["Evil.example", "bad.example"])
    admin.change_items(blocked.id, remove=["bad.example"])
    assert admin.list_items(blocked.id) == ["evil.example"]
    rule = admin.create_rule({"name": "block", "match": {"conditions": [
        {"field": "from.domain", "operator": "in_list", "value": [blocked.id]}]}, "actions": [{"type": "block"}]})
    policy = admin.create_policy({"name": "p", "spam_detection": {"use_list_dnsbl": True}})
    ws = admin.create_workspace("triage", policy_id=policy.id, rule_ids=[rule.id])
    admin.assign_grant(ws.id, grant.id)
    assert admin.find_grant(grant.id).workspace_id == ws.id
    assert admin.find_workspace(ws.id).rule_ids == [rule.id] and admin.find_policy(policy.id).name == "p"
    assert sb.deliver(grant_id=grant.id, from_="x@evil.example", subject="hi")["blocked"] is True

    receiver = Receiver()
    try:
        hook = admin.create_webhook(receiver.url, description="triage-tui")
        assert hook.webhook_secret and hook.missing() == [] and hook.status == "active"
        found = admin.find_webhook(hook.id)
        assert found.webhook_secret == "" and found.trigger_types == list(PRODUCT_TRIGGERS)
        paused = admin.update_webhook(hook.id, {"status": "pause", "trigger_types": ["message.created"]})
        assert paused.status == "pause" and "message.bounced" in paused.missing()
        assert admin.rotate_webhook_secret(hook.id).webhook_secret not in ("", hook.webhook_secret)
    finally:
        receiver.close()
    admin.delete_grant(grant.id)
    with pytest.raises(NotFound):
        admin.find_grant(grant.id)


def test_a_create_is_not_repeated_after_a_5xx_but_is_after_a_429(sb, admin, recorded_sleep):
    sb.set_faults(script=[{"status": 503, "method": "POST", "path": "/v3/policies"}])
    with pytest.raises(ServerError):
        admin.create_policy({"name": "once"})
    assert sb.stats()["requests"].get("policies.create", 0) == 0 and recorded_sleep.waits == []
    sb.set_faults(script=[{"status": 429, "retry_after": 1, "method": "POST", "path": "/v3/policies"}])
    assert admin.create_policy({"name": "once"}).name == "once"
    assert recorded_sleep.waits and recorded_sleep.waits[0] >= 1
    assert [p.name for p in admin.list_policies()].count("once") == 1
    sb.set_faults(script=[{"status": 503, "method": "GET", "path": "/v3/policies"}])
    assert len(admin.list_policies()) == 2  # reads are retried as everywhere in the gateway


def test_a_revoked_key_and_bad_input_are_typed(sb, admin):
    with pytest.raises(BadRequest, match="not registered"):
        admin.create_agent_account("bot@elsewhere.example")
    with pytest.raises(BadRequest):
        admin.find_grant(" ")
    sb.keys(revoke=[sb.api_key])
    with pytest.raises(AuthError) as caught:
        admin.probe()
    assert caught.value.status == 401
