"""Webhook destinations: challenge, signed CloudEvents deliveries, truncation, retries."""

import gzip
import hashlib
import hmac
import json
import time

import pytest
from nylas.models.errors import NylasApiError

from tests.sandbox.helpers import Receiver


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def create(client, url):
    return client.webhooks.create({"trigger_types": ["message.created"], "webhook_url": url,
                                   "description": "test"}).data


def verify(secret, headers, raw):
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), headers["x-nylas-signature"].encode())


def test_create_performs_the_challenge_and_returns_secret_once(empty, client, receiver):
    hook = create(client, receiver.url)
    assert len(receiver.challenges) == 1 and receiver.challenges[0]
    assert hook.status == "active" and hook.webhook_secret
    found = client.webhooks.find(hook.id).data
    assert found.created_at and found.updated_at and found.status_updated_at
    raw = empty.admin("GET", f"/v3/webhooks/{hook.id}").json()["data"]
    assert "webhook_secret" not in raw
    assert all("webhook_secret" not in w for w in empty.admin("GET", "/v3/webhooks").json()["data"])


def test_create_fails_when_challenge_is_not_echoed(empty, client):
    silent = Receiver(echo_challenge=False)
    try:
        with pytest.raises(NylasApiError) as err:
            create(client, silent.url)
        assert err.value.status_code == 400
        assert client.webhooks.list().data == []
    finally:
        silent.close()


def test_delivery_is_signed_over_the_raw_body(empty, client, receiver):
    hook = create(client, receiver.url)
    sent = empty.deliver(from_="a@b.example", subject="signed", body="hello")
    assert wait_for(lambda: receiver.posts)
    headers, raw = receiver.posts[0]
    assert re_hex(headers["x-nylas-signature"])
    assert verify(hook.webhook_secret, headers, raw)
    assert not verify("other-secret", headers, raw)
    event = json.loads(raw)
    assert event["specversion"] == "1.0" and event["type"] == "message.created"
    assert event["id"] and isinstance(event["time"], int) and event["source"]
    assert event["data"]["application_id"]
    assert event["data"]["object"]["id"] == sent["id"]
    assert event["data"]["object"]["grant_id"] == empty.grant_id
    assert event["webhook_delivery_attempt"] == 1


def re_hex(value):
    return len(value) == 64 and value == value.lower() and int(value, 16) >= 0


def test_object_over_1mb_is_sent_truncated(empty, client, receiver):
    create(client, receiver.url)
    big = empty.deliver(**{"from": "a@b.example", "subject": "huge", "body": "x" * 1_100_000})
    assert wait_for(lambda: receiver.posts)
    _, raw = receiver.posts[0]
    event = json.loads(raw)
    assert event["type"] == "message.created.truncated"
    assert "body" not in event["data"]["object"] and event["data"]["object"]["id"] == big["id"]
    assert len(raw) < 100_000


def test_failed_delivery_is_retried_up_to_three_attempts(empty, client):
    flaky = Receiver(fail_first=2)
    try:
        create(client, flaky.url)
        empty.deliver(**{"from": "a@b.example", "subject": "retry me"})
        assert wait_for(lambda: len(flaky.posts) == 3)
        attempts = [json.loads(raw)["webhook_delivery_attempt"] for _, raw in flaky.posts]
        ids = {json.loads(raw)["id"] for _, raw in flaky.posts}
        assert attempts == [1, 2, 3] and len(ids) == 1
        assert empty.wait_webhooks_idle()
        stats = empty.stats()
        assert [a["ok"] for a in stats["webhook_attempts"]] == [False, False, True]
    finally:
        flaky.close()


def test_delivery_gives_up_after_three_failures(empty, client):
    dead = Receiver(fail_first=100)
    try:
        create(client, dead.url)
        empty.deliver(**{"from": "a@b.example"})
        assert wait_for(lambda: len(dead.posts) >= 3)
        assert empty.wait_webhooks_idle()
        time.sleep(0.2)
        assert len(dead.posts) == 3
    finally:
        dead.close()


def test_duplicate_webhooks_fault_delivers_each_event_twice(empty, client, receiver):
    create(client, receiver.url)
    empty.set_faults(duplicate_webhooks=True)
    empty.deliver(**{"from": "a@b.example"})
    assert wait_for(lambda: len(receiver.posts) == 2)
    assert len({json.loads(raw)["id"] for _, raw in receiver.posts}) == 1


def test_rotate_secret_both_paths_and_sdk(empty, client, receiver):
    hook = create(client, receiver.url)
    rotated = empty.admin("POST", f"/v3/webhooks/rotate-secret/{hook.id}").json()["data"]
    rotated2 = empty.admin("POST", f"/v3/webhooks/{hook.id}/rotate-secret").json()["data"]
    via_sdk = client.webhooks.rotate_secret(hook.id).data
    secrets = [hook.webhook_secret, rotated["webhook_secret"], rotated2["webhook_secret"],
               via_sdk.webhook_secret]
    assert len(set(secrets)) == 4
    empty.deliver(**{"from": "a@b.example"})
    assert wait_for(lambda: receiver.posts)
    headers, raw = receiver.posts[0]
    assert verify(via_sdk.webhook_secret, headers, raw)
    assert not verify(hook.webhook_secret, headers, raw)


def test_update_pause_and_delete(empty, client, receiver):
    hook = create(client, receiver.url)
    paused = client.webhooks.update(hook.id, {"status": "pause"}).data
    assert paused.status == "pause"
    empty.deliver(**{"from": "a@b.example"})
    time.sleep(0.2)
    assert receiver.posts == []
    client.webhooks.destroy(hook.id)
    with pytest.raises(NylasApiError) as err:
        client.webhooks.find(hook.id)
    assert err.value.status_code == 404


def test_sent_mail_notifies_message_created(empty, client, receiver):
    create(client, receiver.url)
    client.messages.send(empty.grant_id, {"to": [{"email": "c@d.example"}], "subject": "out"})
    assert wait_for(lambda: receiver.posts)
    event = json.loads(receiver.posts[0][1])
    assert event["source"] == "/nylas/send" and event["data"]["object"]["folders"] == ["SENT"]


def test_compressed_delivery_signs_the_gzip_bytes(empty, client, receiver):
    hook = client.webhooks.create({"trigger_types": ["message.created"],
                                   "webhook_url": receiver.url, "compressed_delivery": True}).data
    empty.deliver(**{"from": "a@b.example", "subject": "zipped"})
    assert wait_for(lambda: receiver.posts)
    headers, raw = receiver.posts[0]
    assert headers["content-encoding"] == "gzip"
    assert verify(hook.webhook_secret, headers, raw)
    assert json.loads(gzip.decompress(raw))["data"]["object"]["subject"] == "zipped"


def test_message_update_notifies_message_updated(empty, client, receiver):
    mid = empty.deliver(**{"from": "a@b.example", "subject": "before"})["id"]
    client.webhooks.create({"trigger_types": ["message.updated"], "webhook_url": receiver.url})
    client.messages.update(empty.grant_id, mid, {"unread": False})
    assert wait_for(lambda: receiver.posts)
    event = json.loads(receiver.posts[0][1])
    assert event["type"] == "message.updated"
    assert event["data"]["object"]["id"] == mid and event["data"]["object"]["unread"] is False
