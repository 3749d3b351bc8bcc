"""Agent Account lifecycle through the official SDK: create, list, move, delete, and a revoked key."""

import pytest
from nylas.models.errors import NylasApiError


def create(client, email, name="Triage bot", **extra):
    return client.auth.custom_authentication(
        {"provider": "nylas", "name": name, "settings": {"email": email}, **extra}).data


def test_connect_custom_creates_an_agent_account_the_sdk_lists(empty, client):
    grant = create(client, "triage@sandbox.nylas.email")
    assert grant.provider == "nylas" and grant.grant_status == "valid" and grant.id
    raw = empty.admin("GET", f"/v3/grants/{grant.id}").json()["data"]
    assert raw["name"] == "Triage bot" and raw["email"] == "triage@sandbox.nylas.email"
    assert raw["workspace_id"] == "ws-sandbox"  # auto-grouped by its domain
    emails = {g.email for g in client.grants.list({"limit": 200}).data}
    assert emails == {"support@sandbox.nylas.email", "triage@sandbox.nylas.email"}
    only = client.grants.list({"email": "TRIAGE@sandbox.nylas.email"}).data
    assert [g.id for g in only] == [grant.id]
    # the same address again re-authenticates the same account
    assert create(client, "triage@sandbox.nylas.email").id == grant.id
    assert client.messages.list(grant.id).data == []


REFUSED = [
    ({"provider": "google", "settings": {"email": "a@sandbox.nylas.email"}}, "Agent Accounts only"),
    ({"provider": "nylas", "settings": {"email": "someone@unregistered.example"}}, "not registered"),
    ({"provider": "nylas", "settings": {"email": "not-an-address"}}, "email address"),
    ({"provider": "nylas", "settings": {"email": "a@sandbox.nylas.email", "app_password": "short1A"}},
     "18 to 40"),
    ({"provider": "nylas", "settings": {"email": "a@sandbox.nylas.email",
                                        "app_password": "alllowercaseletters123"}}, "upper-case"),
    ({"provider": "nylas", "workspace_id": "nope", "settings": {"email": "a@sandbox.nylas.email"}},
     "not found"),
]


def test_connect_custom_refuses_what_the_api_refuses(empty, client):
    for body, message in REFUSED:
        with pytest.raises(NylasApiError) as caught:
            client.auth.custom_authentication(body)
        assert message in str(caught.value)
        assert caught.value.status_code in (400, 404)
    assert len(client.grants.list().data) == 1


def test_a_registered_extra_domain_and_a_given_workspace(make_sandbox):
    sb = make_sandbox(messages=0, domains=["agents.example.com"])
    import nylas

    client = nylas.Client(sb.api_key, api_uri=sb.api_uri)
    ws = client.workspaces.create({"name": "triage", "auto_group": False}).data
    grant = create(client, "bot@agents.example.com", workspace_id=ws.workspace_id)
    assert sb.admin("GET", f"/v3/grants/{grant.id}").json()["data"]["workspace_id"] == ws.workspace_id


def test_manual_assign_moves_a_grant_and_remove_returns_it_to_the_default(empty, client):
    ws = client.workspaces.create({"name": "triage", "auto_group": False}).data
    moved = client.workspaces.manual_assign(ws.workspace_id, {"assign_grants": [empty.grant_id, "ghost"]}).data
    assert moved.grants_assigned == [empty.grant_id] and moved.grants_removed is None
    assert client.grants.list({"workspace_id": ws.workspace_id}).data[0].id == empty.grant_id
    back = client.workspaces.manual_assign(ws.workspace_id, {"remove_grants": [empty.grant_id]}).data
    assert back.grants_removed == [empty.grant_id]
    assert empty.admin("GET", f"/v3/grants/{empty.grant_id}").json()["data"]["workspace_id"] == "ws-sandbox"
    with pytest.raises(NylasApiError) as caught:
        client.workspaces.manual_assign(ws.workspace_id, {})
    assert caught.value.status_code == 400


def test_deleting_a_grant_removes_the_account_and_its_mail(empty, client):
    empty.deliver(from_="a@b.example", subject="hello")
    client.grants.destroy(empty.grant_id)
    for call in (lambda: client.grants.find(empty.grant_id), lambda: client.messages.list(empty.grant_id)):
        with pytest.raises(NylasApiError) as caught:
            call()
        assert caught.value.status_code == 404
    assert client.grants.list().data == []


def test_a_revoked_key_is_refused_and_a_new_one_works(empty, client):
    assert empty.keys(issue=["second-key"]) == ["sandbox-key", "second-key"]
    assert empty.keys(revoke=["sandbox-key"]) == ["second-key"]
    with pytest.raises(NylasApiError) as caught:
        client.grants.list()
    assert caught.value.status_code == 401
    import nylas

    assert len(nylas.Client("second-key", api_uri=empty.api_uri).grants.list().data) == 1
    empty.keys(issue=["sandbox-key"])  # the admin API kept working with the starting key
    assert len(client.grants.list().data) == 1


def test_policies_refuse_unknown_limits_and_out_of_range_spam_sensitivity(client):
    for body in ({"name": "p", "limits": {"limit_bogus": 1}},
                 {"name": "p", "spam_detection": {"spam_sensitivity": 6}},
                 {"name": "p", "limits": {"limit_inbox_retention_period": -1}}):
        with pytest.raises(NylasApiError) as caught:
            client.policies.create(body)
        assert caught.value.status_code == 400
    ok = client.policies.create({"name": "p", "limits": {"limit_inbox_retention_period": 30},
                                 "spam_detection": {"use_list_dnsbl": True, "spam_sensitivity": 1.5}}).data
    assert ok.limits.limit_inbox_retention_period == 30 and ok.spam_detection.spam_sensitivity == 1.5
