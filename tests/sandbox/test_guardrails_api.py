"""Workspaces, policies, rules and lists through the SDK, applied to inbound mail."""

import pytest
from nylas.models.errors import NylasApiError


def policy_of(client, sb):
    ws_id = sb.admin("GET", f"/v3/grants/{sb.grant_id}").json()["data"]["workspace_id"]
    return client.workspaces.find(ws_id).data.policy_id


def rule(client, name, field, operator, value, *actions, priority=10):
    return client.rules.create({
        "name": name, "priority": priority, "trigger": "inbound",
        "match": {"operator": "all",
                  "conditions": [{"field": field, "operator": operator, "value": value}]},
        "actions": list(actions)}).data


def test_rules_are_applied_on_inbound_and_evaluations_recorded(empty, client):
    spam = rule(client, "spam tld", "from.tld", "is", "xyz", {"type": "mark_as_spam"})
    vip = rule(client, "vip", "from.domain", "is", "bigcorp.example",
               {"type": "mark_as_starred"}, {"type": "assign_to_folder", "value": "VIP"})
    client.policies.update(policy_of(client, empty), {"rules": [spam.id, vip.id]})

    junk = empty.deliver(**{"from": "promo@deals.xyz", "subject": "win"})
    starred = empty.deliver(**{"from": "ceo@BigCorp.example", "subject": "urgent"})
    plain = empty.deliver(**{"from": "someone@else.example", "subject": "hello"})

    assert junk["folders"] == ["JUNK"] and junk["matched_rule_ids"] == [spam.id]
    vip_msg = client.messages.find(empty.grant_id, starred["id"]).data
    folder_names = {f.id: f.name for f in client.folders.list(empty.grant_id).data}
    assert vip_msg.starred is True
    assert sorted(folder_names[f] for f in vip_msg.folders) == ["Inbox", "VIP"]
    assert plain["folders"] == ["INBOX"] and plain["matched_rule_ids"] == []

    evaluations = client.rules.list_evaluations(empty.grant_id).data
    by_message = {e.message_id: e for e in evaluations}
    assert set(by_message) == {junk["id"], starred["id"], plain["id"]}
    assert by_message[junk["id"]].applied_actions.marked_as_spam is True
    assert by_message[starred["id"]].matched_rule_ids == [vip.id]
    assert by_message[starred["id"]].evaluation_input.from_domain == "bigcorp.example"
    raw = empty.admin("GET", f"/v3/grants/{empty.grant_id}/rule-evaluations").json()["data"]
    assert all(e["policy_id"] == policy_of(client, empty) for e in raw)


def test_block_rule_keeps_the_mail_out_and_is_audited(empty, client):
    block = rule(client, "block", "from.address", "contains", "spammer",
                 {"type": "block"}, priority=1)
    client.policies.update(policy_of(client, empty), {"rules": [block.id]})
    result = empty.deliver(**{"from": "the.spammer@bad.example", "subject": "x"})
    assert result["blocked"] is True
    assert client.messages.list(empty.grant_id).data == []
    evaluation = client.rules.list_evaluations(empty.grant_id).data[0]
    assert evaluation.applied_actions.blocked is True


def test_in_list_operator_uses_list_items(empty, client):
    blocked_domains = client.lists.create({"name": "bad domains", "type": "domain"}).data
    client.lists.add_items(blocked_domains.id, {"items": ["Evil.example", "worse.example"]})
    trash = rule(client, "listed", "from.domain", "in_list", [blocked_domains.id],
                 {"type": "trash"})
    client.policies.update(policy_of(client, empty), {"rules": [trash.id]})
    assert empty.deliver(**{"from": "a@evil.example"})["folders"] == ["TRASH"]
    assert empty.deliver(**{"from": "a@good.example"})["folders"] == ["INBOX"]


def test_is_not_archive_and_mark_read(empty, client):
    archive = rule(client, "not ours", "from.domain", "is_not", "ours.example",
                   {"type": "archive"}, {"type": "mark_as_read"})
    workspace = empty.admin("GET", f"/v3/grants/{empty.grant_id}").json()["data"]["workspace_id"]
    client.workspaces.update(workspace, {"rule_ids": [archive.id]})
    outside = empty.deliver(**{"from": "x@theirs.example"})
    inside = empty.deliver(**{"from": "x@ours.example"})
    assert outside["folders"] == ["ARCHIVE"] and inside["folders"] == ["INBOX"]
    assert client.messages.find(empty.grant_id, outside["id"]).data.unread is False


def test_invalid_rule_is_a_400(empty, client):
    with pytest.raises(NylasApiError) as err:
        client.rules.create({"name": "bad", "match": {"conditions": [
            {"field": "subject", "operator": "is", "value": "x"}]}, "actions": [{"type": "trash"}]})
    assert err.value.status_code == 400 and "field" in str(err.value)
    with pytest.raises(NylasApiError) as err:
        client.rules.create({"name": "bad", "match": {"conditions": [
            {"field": "from.tld", "operator": "is", "value": "x"}]},
            "actions": [{"type": "block"}, {"type": "trash"}]})
    assert err.value.status_code == 400
    assert client.rules.list().data == []


def test_disabled_rule_does_nothing(empty, client):
    r = rule(client, "off", "from.tld", "is", "example", {"type": "trash"})
    client.rules.update(r.id, {"enabled": False})
    client.policies.update(policy_of(client, empty), {"rules": [r.id]})
    assert empty.deliver(**{"from": "a@b.example"})["folders"] == ["INBOX"]


def test_outbound_block_rule_refuses_the_send_with_403(empty, client):
    r = client.rules.create({
        "name": "no competitors", "trigger": "outbound",
        "match": {"conditions": [{"field": "recipient.domain", "operator": "is",
                                  "value": "rival.example"}]},
        "actions": [{"type": "block"}]}).data
    client.policies.update(policy_of(client, empty), {"rules": [r.id]})
    with pytest.raises(NylasApiError) as err:
        client.messages.send(empty.grant_id, {"to": [{"email": "boss@rival.example"}]})
    assert err.value.status_code == 403
    assert client.messages.send(empty.grant_id, {"to": [{"email": "a@friend.example"}]}).data.id
    assert empty.stats()["sends_delivered"] == {empty.grant_id: 1}
    inbound = empty.deliver(**{"from": "boss@rival.example"})
    assert inbound["folders"] == ["INBOX"]  # outbound rules never touch inbound mail
