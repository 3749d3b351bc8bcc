"""Delivery-status webhooks after each send: by recipient domain, signed, at least once, out of order."""

import hashlib
import hmac
import json
from collections import Counter

import nylas
import pytest

from tests.sandbox.helpers import Receiver
from tests.sandbox.test_webhooks_api import wait_for

TRIGGERS = ["message.delivered", "message.bounced", "message.complaint", "message.rejected",
            "message.send_failed"]


@pytest.fixture
def hooked(make_sandbox):
    """A sandbox with bounce/reject/complaint domains and a receiver subscribed to every delivery trigger."""
    sb = make_sandbox(messages=0, delivery={"bounce_domains": ["bounce.example"],
                                            "reject_domains": ["virus.example"],
                                            "complaint_domains": ["grumpy.example"],
                                            "fail_domains": ["down.example"],
                                            "duplicate_rate": 0.0, "delay_s": [0, 0.01]})
    receiver = Receiver()
    # The SDK cannot decode a webhook with these triggers (its enum lacks them), so create it raw.
    hook = sb.admin("POST", "/v3/webhooks", {"trigger_types": TRIGGERS, "webhook_url": receiver.url}).json()
    yield sb, receiver, hook["data"]["webhook_secret"]
    receiver.close()


def send(sb, *to, metadata=None):
    client = nylas.Client(sb.api_key, api_uri=sb.api_uri)
    body = {"to": [{"email": a} for a in to], "subject": "Re: help", "body": "hi"}
    if metadata:
        body["metadata"] = metadata
    return client.messages.send(sb.grant_id, body).data


def events(receiver, secret):
    out = []
    for headers, raw in receiver.posts:
        expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(expected, headers["x-nylas-signature"])
        out.append(json.loads(raw))
    return out


def test_the_sdk_refuses_to_decode_agent_account_triggers_as_with_nylas(empty):
    receiver = Receiver()
    try:
        client = nylas.Client(empty.api_key, api_uri=empty.api_uri)
        with pytest.raises(ValueError, match="message.delivered"):
            client.webhooks.create({"trigger_types": ["message.delivered"], "webhook_url": receiver.url})
        raw = empty.admin("GET", "/v3/webhooks").json()["data"]
        assert raw[0]["trigger_types"] == ["message.delivered"]  # created all the same
    finally:
        receiver.close()


def test_each_outcome_by_recipient_domain_with_the_documented_shape(hooked):
    sb, receiver, secret = hooked
    sent = send(sb, "ok@fine.example", "gone@bounce.example", "angry@grumpy.example",
                metadata={"command_result_id": "cr-1"})
    assert wait_for(lambda: len(receiver.posts) >= 3)
    assert sb.wait_webhooks_idle()
    by_type = {e["type"]: e for e in events(receiver, secret)}
    assert set(by_type) == {"message.delivered", "message.bounced", "message.complaint"}
    for event in by_type.values():
        assert event["source"] == "/nylas/send" and event["data"]["grant_id"] == sb.grant_id
        summary = event["data"]["object"]["message"]
        assert summary["id"] == sent.id and summary["from"] == sb.email
        assert summary["metadata"] == {"command_result_id": "cr-1"}
        assert isinstance(summary["sent_at"], int) and "cc" not in summary
    delivered = by_type["message.delivered"]["data"]["object"]["delivered"]
    assert delivered["recipients"] == ["ok@fine.example", "angry@grumpy.example"]
    bounce = by_type["message.bounced"]["data"]["object"]["bounce"]
    assert [r["email"] for r in bounce["recipients"]] == ["gone@bounce.example"]
    assert bounce["recipients"][0]["diagnostic_code"] and bounce["type"]
    complaint = by_type["message.complaint"]["data"]["object"]["complaint"]
    assert complaint["complained_recipients"] == ["angry@grumpy.example"]


def test_a_rejected_send_is_rejected_as_a_whole(hooked):
    sb, receiver, secret = hooked
    sent = send(sb, "ok@fine.example", "x@virus.example")
    assert wait_for(lambda: receiver.posts) and sb.wait_webhooks_idle()
    [event] = events(receiver, secret)
    assert event["type"] == "message.rejected"
    assert event["data"]["object"]["message"]["id"] == sent.id
    assert isinstance(event["data"]["object"]["rejected_at"], int)


def test_a_queued_send_that_fails_is_202_then_send_failed_and_stays_in_drafts(hooked):
    sb, receiver, secret = hooked
    sent = send(sb, "someone@down.example")
    assert wait_for(lambda: receiver.posts) and sb.wait_webhooks_idle()
    [event] = events(receiver, secret)
    assert event["type"] == "message.send_failed" and event["data"]["grant_id"] == sb.grant_id
    assert event["data"]["reason"] and event["data"]["error"]["type"]
    assert event["data"]["object"]["id"] == sent.id
    assert sb.sent() == [] and sb.stats()["sends_delivered"] == {}
    raw = sb.admin("POST", f"/v3/grants/{sb.grant_id}/messages/send",
                   {"to": [{"email": "b@down.example"}], "subject": "s", "body": "b"})
    assert raw.status_code == 202 and raw.json()["data"]["folders"] == ["DRAFTS"]


def test_events_come_at_least_once_and_out_of_order(hooked):
    sb, receiver, secret = hooked
    sb.set_delivery(duplicate_rate=1.0, delay_s=[0, 0.4], seed=3)
    sent_ids = [send(sb, f"user{i}@fine.example").id for i in range(8)]
    assert wait_for(lambda: len(receiver.posts) >= 16, timeout=10) and sb.wait_webhooks_idle()
    received = events(receiver, secret)
    copies = Counter(e["id"] for e in received)
    assert len(copies) == 8 and set(copies.values()) == {2}  # each event twice, same id
    first_seen = list(dict.fromkeys(e["data"]["object"]["message"]["id"] for e in received))
    assert sorted(first_seen) == sorted(sent_ids) and first_seen != sent_ids
    log = sb.set_delivery()["events"]
    assert [e["message_id"] for e in log] == sent_ids and {e["copies"] for e in log} == {2}


def test_delivery_settings_are_validated(empty):
    for bad in ({"bounce_domains": "x.example"}, {"duplicate_rate": 2}, {"delay_s": [2, 1]}, {"nope": 1}):
        assert empty.admin("POST", "/admin/delivery", bad).status_code == 400
