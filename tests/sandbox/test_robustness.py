"""Hostile query strings and bodies get a 4xx envelope, never a 500 or a traceback."""

from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PARAMS = ["limit", "page_token", "received_after", "received_before", "in", "unread",
          "thread_id", "any_email", "fields", "starred", "subject", "from"]
values = st.text(min_size=0, max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.dictionaries(st.sampled_from(PARAMS), values, max_size=5))
def test_message_list_never_500s(empty, query):
    qs = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in query.items())
    response = empty.admin("GET", f"/v3/grants/{empty.grant_id}/messages?{qs}")
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert "request_id" in body and ("data" in body) != ("error" in body)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                         lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12))
def test_send_put_rule_and_webhook_bodies_never_500(empty, body):
    sent = empty.admin("POST", f"/v3/grants/{empty.grant_id}/messages/send", json=body)
    assert sent.status_code in (200, 400, 404), sent.text
    rules = empty.admin("POST", "/v3/rules", json=body)
    assert rules.status_code in (200, 400), rules.text
    hook = empty.admin("POST", "/v3/webhooks", json=body)
    assert hook.status_code == 400, hook.text
    mid = empty.deliver(**{"from": "a@b.example"})["id"]
    put = empty.admin("PUT", f"/v3/grants/{empty.grant_id}/messages/{mid}", json=body)
    assert put.status_code in (200, 400), put.text
