"""The default seeded mailbox through the SDK, raw MIME inbound, import, drip, truth."""

import base64
import time

import nylas

RAW = (b"From: Dana <dana@shop.example>\r\nTo: support@sandbox.nylas.email\r\n"
       b"Subject: =?utf-8?q?Caf=C3=A9_order?=\r\nMessage-ID: <raw-1@shop.example>\r\n"
       b"Date: Tue, 14 Nov 2023 10:00:00 +0000\r\nAuto-Submitted: auto-replied\r\n"
       b"Content-Type: text/plain; charset=utf-8\r\n\r\nMy order is late.\r\n")


def test_paging_the_seeded_mailbox_returns_every_message_once(sandbox):
    client = nylas.Client(sandbox.api_key, api_uri=sandbox.api_uri, timeout=10)
    ids, token, pages = [], None, 0
    while True:
        resp = client.messages.list(sandbox.grant_id, query_params={
            "limit": 50, **({"page_token": token} if token else {})})
        ids += [m.id for m in resp.data]
        token, pages = resp.next_cursor, pages + 1
        if not token:
            break
    assert len(ids) == len(set(ids)) == 300 and pages == 6
    stats = sandbox.stats()
    assert stats["messages"][sandbox.grant_id] == 300
    assert stats["threads"][sandbox.grant_id] >= 100


def test_seeded_thread_and_message_decode_strictly(sandbox):
    client = nylas.Client(sandbox.api_key, api_uri=sandbox.api_uri, timeout=10)
    threads = client.threads.list(sandbox.grant_id, query_params={"limit": 50}).data
    multi = next(t for t in threads if len(t.message_ids) > 1)
    found = client.threads.find(sandbox.grant_id, multi.id).data
    assert found.latest_draft_or_message.id == found.message_ids[-1]
    for mid in found.message_ids:
        msg = client.messages.find(sandbox.grant_id, mid,
                                   query_params={"fields": "include_headers"}).data
        assert msg.thread_id == multi.id and msg.headers


def test_truth_is_kept_but_never_served_by_the_api(sandbox):
    truth = sandbox.truth()
    assert len(truth) == 300
    assert {"category", "urgency"} <= set(next(iter(truth.values())))
    mid = next(iter(truth))
    raw = sandbox.admin("GET", f"/v3/grants/{sandbox.grant_id}/messages/{mid}"
                                "?fields=include_headers").text
    assert '"category"' not in raw and '"urgency"' not in raw
    assert truth[mid]["category"] not in ("", None)


def test_same_seed_gives_the_same_ids_and_another_seed_does_not(make_sandbox):
    from triage_tui.sandbox.state import _generated

    first = make_sandbox(seed=11, messages=30)
    _generated.cache_clear()  # regenerate from scratch, as a new process would
    second = make_sandbox(seed=11, messages=30)
    other = make_sandbox(seed=12, messages=30)
    assert set(first.truth()) == set(second.truth())
    assert not set(first.truth()) & set(other.truth())


def test_raw_mime_inbound_is_parsed_and_threaded(empty):
    sent = empty.deliver(raw_mime_b64=base64.b64encode(RAW).decode())
    client = nylas.Client(empty.api_key, api_uri=empty.api_uri)
    msg = client.messages.find(empty.grant_id, sent["id"],
                               query_params={"fields": "include_headers"}).data
    assert msg.subject == "Café order" and msg.from_[0]["email"] == "dana@shop.example"
    assert any(h.name == "Auto-Submitted" for h in msg.headers)
    bad = empty.admin("POST", "/admin/inbound", {"raw_mime_b64": "%%%not base64"})
    assert bad.status_code == 400
    assert len(client.messages.list(empty.grant_id).data) == 1


def test_import_loads_a_directory_of_eml(make_sandbox, tmp_path):
    (tmp_path / "one.eml").write_bytes(RAW)
    (tmp_path / "two.eml").write_bytes(RAW.replace(b"raw-1", b"raw-2"))
    sb = make_sandbox(messages=0, import_path=str(tmp_path))
    client = nylas.Client(sb.api_key, api_uri=sb.api_uri)
    data = client.messages.list(sb.grant_id).data
    assert len(data) == 2 and all(m.date == 1699956000 for m in data)


def test_drip_delivers_new_mail_over_time(make_sandbox):
    sb = make_sandbox(messages=0, drip_per_min=600)  # one every 0.1 s
    time.sleep(0.55)
    listed = sb.admin("GET", f"/v3/grants/{sb.grant_id}/messages").json()["data"]
    assert 2 <= len(listed) <= 8
    truth = sb.truth()  # the drip keeps going, so truth may hold a newer one too
    assert {m["id"] for m in listed} <= set(truth)
