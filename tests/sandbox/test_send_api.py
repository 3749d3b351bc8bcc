"""Send through the SDK: reply threading, Sent folder, Idempotency-Key semantics."""

import threading
import time

import nylas
import pytest
from nylas.models.errors import NylasApiError


def original(sb):
    first = sb.deliver(**{"from": {"name": "Cara", "email": "cara@acme.example"},
                          "subject": "Invoice wrong", "body": "Please fix",
                          "headers": {"Message-ID": "<root@acme.example>"}})
    return sb.deliver(**{"from": {"name": "Cara", "email": "cara@acme.example"},
                         "subject": "Re: Invoice wrong", "body": "Any news?",
                         "headers": {"Message-ID": "<second@acme.example>",
                                     "In-Reply-To": "<root@acme.example>",
                                     "References": "<root@acme.example>"}}), first


def reply_body(mid, text="We are on it."):
    return {"to": [{"name": "Cara", "email": "cara@acme.example"}], "subject": "Re: Invoice wrong",
            "body": text, "reply_to_message_id": mid,
            "custom_headers": [{"name": "X-Triage-Ticket", "value": "T-42"}]}


def header(msg, name):
    return [h.value for h in msg.headers if h.name.lower() == name.lower()]


def test_reply_lands_in_the_thread_with_threading_headers(empty, client):
    second, first = original(empty)
    sent = client.messages.send(empty.grant_id, reply_body(second["id"])).data
    assert sent.thread_id == second["thread_id"] == first["thread_id"]
    assert sent.grant_id == empty.grant_id and sent.folders == ["SENT"]
    assert sent.from_[0]["email"] == empty.email
    full = client.messages.find(empty.grant_id, sent.id,
                                query_params={"fields": "include_headers"}).data
    assert header(full, "In-Reply-To") == ["<second@acme.example>"]
    assert header(full, "References") == ["<root@acme.example> <second@acme.example>"]
    assert header(full, "X-Triage-Ticket") == ["T-42"]
    thread = client.threads.find(empty.grant_id, sent.thread_id).data
    assert thread.message_ids[-1] == sent.id and len(thread.message_ids) == 3
    assert [m["id"] for m in empty.sent()] == [sent.id]
    assert empty.stats()["sends_delivered"] == {empty.grant_id: 1}


def test_send_without_to_is_400_and_sends_nothing(empty, client):
    with pytest.raises(NylasApiError) as err:
        client.messages.send(empty.grant_id, {"subject": "x", "body": "y"})
    assert err.value.status_code == 400
    assert empty.sent() == []


def test_reply_to_unknown_message_is_404(empty, client):
    with pytest.raises(NylasApiError) as err:
        client.messages.send(empty.grant_id, reply_body("missing-id"))
    assert err.value.status_code == 404


def test_idempotent_replay_returns_cached_response_and_sends_once(empty, client):
    second, _ = original(empty)
    key = {"headers": {"Idempotency-Key": "cmd-result-0001"}}
    first = client.messages.send(empty.grant_id, reply_body(second["id"]), overrides=key)
    again = client.messages.send(empty.grant_id, reply_body(second["id"]), overrides=key)
    assert first.headers.get("Idempotent-Response") is None
    assert again.headers.get("Idempotent-Response") == "true"
    assert again.data.id == first.data.id and again.request_id == first.request_id
    assert len(empty.sent()) == 1
    assert empty.stats()["sends_delivered"][empty.grant_id] == 1


def test_same_key_other_payload_is_409(empty, client):
    second, _ = original(empty)
    key = {"headers": {"Idempotency-Key": "cmd-result-0002"}}
    client.messages.send(empty.grant_id, reply_body(second["id"]), overrides=key)
    with pytest.raises(NylasApiError) as err:
        client.messages.send(empty.grant_id, reply_body(second["id"], "changed"), overrides=key)
    assert err.value.status_code == 409 and err.value.type == "api.invalid_idempotent_request"
    assert len(empty.sent()) == 1


def test_key_is_scoped_per_grant(make_sandbox):
    sb = make_sandbox(messages=0, grant_ids=["g-a", "g-b"])
    client = nylas.Client(sb.api_key, api_uri=sb.api_uri)
    body = {"to": [{"email": "x@y.example"}], "subject": "s", "body": "b"}
    key = {"headers": {"Idempotency-Key": "shared"}}
    client.messages.send("g-a", body, overrides=key)
    other = client.messages.send("g-b", body, overrides=key)
    assert other.headers.get("Idempotent-Response") is None
    assert sb.stats()["sends_delivered"] == {"g-a": 1, "g-b": 1}


def test_cached_error_is_replayed_too(empty):
    key = {"Idempotency-Key": "bad-body"}
    path = f"/v3/grants/{empty.grant_id}/messages/send"
    first = empty.admin("POST", path, {"subject": "no recipients"}, headers=key)
    again = empty.admin("POST", path, {"subject": "no recipients"}, headers=key)
    assert first.status_code == again.status_code == 400
    assert again.headers["Idempotent-Response"] == "true"
    assert again.json() == first.json()


def test_key_over_256_chars_is_400(empty, client):
    with pytest.raises(NylasApiError) as err:
        client.messages.send(empty.grant_id, {"to": [{"email": "a@b.example"}]},
                             overrides={"headers": {"Idempotency-Key": "k" * 257}})
    assert err.value.status_code == 400 and err.value.type == "api.invalid_idempotency_key"
    ok = client.messages.send(empty.grant_id, {"to": [{"email": "a@b.example"}]},
                              overrides={"headers": {"Idempotency-Key": "k" * 256}})
    assert ok.data.id


def test_concurrent_request_with_same_key_is_409_while_in_flight(empty, client):
    empty.set_faults(send_delay_ms=400)
    body = {"to": [{"email": "a@b.example"}], "subject": "slow"}
    key = {"headers": {"Idempotency-Key": "in-flight"}}
    results = {}
    worker = threading.Thread(target=lambda: results.setdefault(
        "first", client.messages.send(empty.grant_id, body, overrides=key)))
    worker.start()
    time.sleep(0.15)
    with pytest.raises(NylasApiError) as err:
        client.messages.send(empty.grant_id, body, overrides=key)
    worker.join()
    assert err.value.status_code == 409 and err.value.type == "api.concurrent_idempotent_request"
    assert results["first"].data.id
    assert len(empty.sent()) == 1
