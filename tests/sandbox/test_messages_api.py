"""Messages, threads, folders and grants through the official SDK over loopback."""

import nylas
import pytest
from nylas.models.errors import NylasApiError

from tests.sandbox.helpers import fill


def page_all(client, grant_id, **params):
    ids, token = [], None
    while True:
        query = {"limit": 37, **params}
        if token:
            query["page_token"] = token
        resp = client.messages.list(grant_id, query_params=query)
        ids += [m.id for m in resp.data]
        token = resp.next_cursor
        if not token:
            return ids


def test_paging_returns_every_message_exactly_once(empty, client):
    delivered = fill(empty, 100)
    ids = page_all(client, empty.grant_id)
    assert len(ids) == 100
    assert set(ids) == set(delivered)


def test_paging_survives_new_mail_arriving_between_pages(empty, client):
    delivered = fill(empty, 30)
    first = client.messages.list(empty.grant_id, query_params={"limit": 10})
    fill(empty, 5, start=1_800_000_000)  # newer mail lands at the head
    seen = [m.id for m in first.data]
    token = first.next_cursor
    while token:
        resp = client.messages.list(empty.grant_id, query_params={"limit": 10, "page_token": token})
        seen += [m.id for m in resp.data]
        token = resp.next_cursor
    assert sorted(seen) == sorted(delivered)


def test_list_is_newest_first_and_default_limit_is_50(empty, client):
    fill(empty, 60)
    resp = client.messages.list(empty.grant_id)
    dates = [m.date for m in resp.data]
    assert len(dates) == 50 and dates == sorted(dates, reverse=True)
    assert resp.next_cursor


def test_limit_above_200_is_a_400_envelope(empty, client):
    with pytest.raises(NylasApiError) as err:
        client.messages.list(empty.grant_id, query_params={"limit": 201})
    assert err.value.status_code == 400
    assert err.value.type == "invalid_request_error"
    assert "200" in str(err.value)
    raw = empty.admin("GET", f"/v3/grants/{empty.grant_id}/messages?limit=201").json()
    assert set(raw) == {"request_id", "error"} and set(raw["error"]) == {"type", "message"}


def test_bad_page_token_is_a_400(empty, client):
    with pytest.raises(NylasApiError) as err:
        client.messages.list(empty.grant_id, query_params={"page_token": "not-a-cursor!"})
    assert err.value.status_code == 400


def test_received_after_and_before_filter_on_date(empty, client):
    fill(empty, 30, start=1_700_000_000)  # dates 1_700_000_000 .. +9
    resp = client.messages.list(empty.grant_id, query_params={
        "received_after": 1_700_000_003, "received_before": 1_700_000_005, "limit": 200})
    assert resp.data and all(1_700_000_003 <= m.date <= 1_700_000_005 for m in resp.data)
    assert len(resp.data) == 9


@pytest.mark.parametrize("value", ["true", "True", "false", "False"])
def test_unread_filter_accepts_both_spellings(empty, client, value):
    ids = fill(empty, 6)
    for mid in ids[:2]:
        client.messages.update(empty.grant_id, mid, {"unread": False})
    resp = client.messages.list(empty.grant_id, query_params={"unread": value})
    want_unread = value.lower() == "true"
    assert len(resp.data) == (4 if want_unread else 2)
    assert all(m.unread is want_unread for m in resp.data)


def test_unread_filter_rejects_other_words(empty):
    resp = empty.admin("GET", f"/v3/grants/{empty.grant_id}/messages?unread=maybe")
    assert resp.status_code == 400


def test_any_email_is_comma_separated(empty, client):
    fill(empty, 14)
    resp = client.messages.list(empty.grant_id, query_params={
        "any_email": "user1@customer1.example.com,USER2@customer2.example.com"})
    assert sorted(m.from_[0]["email"] for m in resp.data) == [
        "user1@customer1.example.com", "user2@customer2.example.com"]


def test_in_filters_by_folder_id_and_put_overwrites_folders(empty, client):
    ids = fill(empty, 3)
    folders = {f.name: f.id for f in client.folders.list(empty.grant_id).data}
    assert set(folders) == {"Inbox", "Sent", "Drafts", "Trash", "Junk", "Archive"}
    updated = client.messages.update(empty.grant_id, ids[0], {"folders": [folders["Archive"]],
                                                              "starred": True})
    assert updated.data.folders == [folders["Archive"]] and updated.data.starred is True
    archived = client.messages.list(empty.grant_id, query_params={"in": folders["Archive"]})
    inbox = client.messages.list(empty.grant_id, query_params={"in": folders["Inbox"]})
    assert [m.id for m in archived.data] == [ids[0]]
    assert sorted(m.id for m in inbox.data) == sorted(ids[1:])


def test_put_with_unknown_folder_is_refused_and_changes_nothing(empty, client):
    mid = fill(empty, 1)[0]
    with pytest.raises(NylasApiError) as err:
        client.messages.update(empty.grant_id, mid, {"folders": ["NOPE"], "unread": False})
    assert err.value.status_code == 400
    msg = client.messages.find(empty.grant_id, mid).data
    assert msg.folders == ["INBOX"] and msg.unread is True


def test_fields_include_headers_and_basic_headers(empty, client):
    sent = empty.deliver(**{"from": "a@x.example", "subject": "s", "body": "b",
                            "headers": {"Message-ID": "<h1@x>", "Auto-Submitted": "auto-replied"}})
    plain = client.messages.find(empty.grant_id, sent["id"]).data
    assert plain.headers is None and plain.grant_id == empty.grant_id
    full = client.messages.find(empty.grant_id, sent["id"],
                                query_params={"fields": "include_headers"}).data
    names = {h.name for h in full.headers}
    assert {"Message-ID", "Auto-Submitted", "From", "Subject"} <= names
    basic = client.messages.find(empty.grant_id, sent["id"],
                                 query_params={"fields": "include_basic_headers"}).data
    assert {h.name for h in basic.headers} == {"Message-ID"}
    listed = client.messages.list(empty.grant_id, query_params={"fields": "include_headers"})
    assert any(h.name == "Auto-Submitted" for h in listed.data[0].headers)


def test_thread_lists_its_messages_in_order(empty, client):
    root = empty.deliver(**{"from": "c@x.example", "subject": "Help", "body": "1",
                            "received_at": 1_700_000_000, "headers": {"Message-ID": "<r@x>"}})
    reply = empty.deliver(**{"from": "d@x.example", "subject": "Re: Help", "body": "2",
                             "received_at": 1_700_000_100,
                             "headers": {"Message-ID": "<r2@x>", "In-Reply-To": "<r@x>",
                                         "References": "<r@x>"}})
    other = empty.deliver(**{"from": "e@x.example", "subject": "Other", "body": "3"})
    assert root["thread_id"] == reply["thread_id"] != other["thread_id"]
    thread = client.threads.find(empty.grant_id, root["thread_id"]).data
    assert thread.message_ids == [root["id"], reply["id"]]
    assert thread.latest_draft_or_message.id == reply["id"]
    assert thread.earliest_message_date == 1_700_000_000
    assert {p["email"] for p in thread.participants} >= {"c@x.example", "d@x.example"}
    by_thread = client.messages.list(empty.grant_id, query_params={"thread_id": root["thread_id"]})
    assert sorted(m.id for m in by_thread.data) == sorted([root["id"], reply["id"]])


def test_threads_list_defaults_to_20_and_caps_at_50(empty, client):
    fill(empty, 60)
    first = client.threads.list(empty.grant_id)
    assert len(first.data) == 20 and first.next_cursor
    seen = [t.id for t in first.data]
    token = first.next_cursor
    while token:
        resp = client.threads.list(empty.grant_id, query_params={"limit": 50, "page_token": token})
        seen += [t.id for t in resp.data]
        token = resp.next_cursor
    assert len(seen) == len(set(seen)) == 60
    with pytest.raises(NylasApiError) as err:
        client.threads.list(empty.grant_id, query_params={"limit": 51})
    assert err.value.status_code == 400


def test_wrong_key_is_401_and_unknown_grant_is_404(empty):
    bad = nylas.Client("wrong-key", api_uri=empty.api_uri)
    with pytest.raises(NylasApiError) as err:
        bad.messages.list(empty.grant_id)
    assert err.value.status_code == 401
    good = nylas.Client(empty.api_key, api_uri=empty.api_uri)
    with pytest.raises(NylasApiError) as err:
        good.messages.list("no-such-grant")
    assert err.value.status_code == 404 and err.value.type == "not_found_error"
    with pytest.raises(NylasApiError) as err:
        good.messages.find(empty.grant_id, "no-such-message")
    assert err.value.status_code == 404


def test_grant_is_an_agent_account(empty, client):
    grant = client.grants.find(empty.grant_id).data
    assert grant.provider == "nylas" and grant.grant_status == "valid"
    assert grant.email == empty.email
    raw = empty.admin("GET", f"/v3/grants/{empty.grant_id}").json()["data"]
    assert raw["workspace_id"] and raw["name"]
    by_email = empty.admin("GET", f"/v3/grants/{empty.email}").json()["data"]
    assert by_email["id"] == empty.grant_id


def test_several_grants_keep_separate_mailboxes(make_sandbox):
    sb = make_sandbox(messages=0, grant_ids=["g-one", "g-two"])
    client = nylas.Client(sb.api_key, api_uri=sb.api_uri)
    fill(sb, 3, grant_id="g-one")
    fill(sb, 5, grant_id="g-two")
    assert len(client.messages.list("g-one").data) == 3
    assert len(client.messages.list("g-two").data) == 5
    assert client.grants.find("g-two").data.email != client.grants.find("g-one").data.email
