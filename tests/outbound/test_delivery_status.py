"""Delivery status of our sends: the sandbox's signed delivery webhooks, through the real receiver and
worker, onto the outbox entry, the thread view, the header and `status`; forged events change nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from starlette.testclient import TestClient

from triage_tui.classify.chain import build_classifier
from triage_tui.config import ClassifierConfig
from triage_tui.domain import DeliveryReport
from triage_tui.ingest.receiver import PATH, build_app
from triage_tui.ingest.worker import CycleReport, Worker
from triage_tui.nylas.webhooks import verify_signature
from triage_tui.outbound.dispatcher import dispatch_once
from triage_tui.outbound.status import outbound_status
from triage_tui.store.audit import list_audit
from triage_tui.store.delivery import record_delivery
from triage_tui.store.models import AuditRow, MessageRow, OutboxRow, WebhookEventRow
from triage_tui.store.outbox import failure_summary, get_entry
from triage_tui.store.queue import header_stats
from triage_tui.store.threads import message_detail
from tests.ingest.test_receiver import _serve
from tests.outbound.test_dispatch import approved

DELIVERY = ["message.delivered", "message.bounced", "message.complaint", "message.rejected", "message.send_failed"]


@pytest.fixture
def live(outbound):
    """(config, gateway, sandbox, app): the receiver served on loopback, subscribed to the delivery triggers."""
    config, gateway, sandbox = outbound
    sandbox.set_delivery(bounce_domains=["bounce.example"], fail_domains=["down.example"],
                         complaint_domains=["grumpy.example"], duplicate_rate=0.0, delay_s=[0, 0.01])
    secrets: list[str] = []
    app = build_app(config, secrets=secrets)
    server, thread, port = _serve(app)
    created = sandbox.admin("POST", "/v3/webhooks", {"trigger_types": DELIVERY,
                                                     "webhook_url": f"http://127.0.0.1:{port}{PATH}"})
    assert created.status_code == 200, created.text
    secrets.append(created.json()["data"]["webhook_secret"])
    yield config, gateway, sandbox, app
    server.should_exit = True
    thread.join(5)


def drain(config, gateway) -> CycleReport:
    cycle = CycleReport()
    Worker(config, gateway, build_classifier(ClassifierConfig(chain=["rules"]))).drain(cycle)
    return cycle


def test_a_reply_to_a_bouncing_domain_shows_as_bounced_in_the_thread_after_one_delivery(live):
    config, gateway, sandbox, app = live
    entry = approved(config, sandbox, subject="Refund", sender="gone@bounce.example", ticket_id="T-9")
    assert dispatch_once(config, gateway, owner="w1").sent == 1
    assert sandbox.wait_webhooks_idle(10) and app.state.counters["stored"] == 1
    assert drain(config, gateway).deliveries == 1
    stored = get_entry(entry.command_result_id)
    assert stored.state == "sent" and stored.delivery_status == "bounced"
    assert "gone@bounce.example" in stored.delivery_detail and "550" in stored.delivery_detail
    [(_, event)] = [(i, e) for i, e in list_audit(action="outbox.bounced")]
    assert (event.command_result_id, event.ticket_id, event.message_id) == (
        entry.command_result_id, "T-9", stored.sent_message_id)
    assert event.thread_id == entry.thread_id and event.event_id and event.webhook_trigger == "message.bounced"
    original = MessageRow.get(MessageRow.message_id == entry.reply_to_message_id)
    notes = message_detail(original.id).notes
    assert "delivery: BOUNCED" in notes[entry.reply_to_message_id]
    count, line = failure_summary()
    assert count == 1 and line.startswith("bounced: Re: Refund")
    assert header_stats().send_failures == 1
    status = outbound_status(config)
    assert status["delivery_by_status"] == {"bounced": 1} and status["delivery_problems"] == 1


def test_a_202_send_that_later_fails_marks_its_entry_failed(live):
    config, gateway, sandbox, app = live
    entry = approved(config, sandbox, subject="Down", sender="someone@down.example")
    assert dispatch_once(config, gateway, owner="w1").sent == 1
    assert sandbox.wait_webhooks_idle(10)
    drain(config, gateway)
    stored = get_entry(entry.command_result_id)
    assert stored.delivery_status == "failed" and "could not be reached" in stored.delivery_detail
    assert [e.command_result_id for _, e in list_audit(action="outbox.failed")] == [entry.command_result_id]


def _entry(config, sandbox, message_id="sent-1"):
    entry = approved(config, sandbox, subject="Order")
    OutboxRow.update(state="sent", sent_message_id=message_id).where(
        OutboxRow.command_result_id == entry.command_result_id).execute()
    return entry


@pytest.mark.parametrize("order", [
    ["delivered", "bounced"], ["bounced", "delivered"], ["delivered", "complaint", "delivered"],
    ["complaint", "bounced", "delivered", "bounced"],
])
def test_the_worst_status_reported_stands_whatever_the_order(outbound, order):
    config, _gateway, sandbox = outbound
    entry = _entry(config, sandbox)
    by_id = [DeliveryReport(status=s, message_id="sent-1", detail=s) for s in order[::2]]
    by_key = [DeliveryReport(status=s, command_result_id=entry.command_result_id, detail=s) for s in order[1::2]]
    reports = [r for pair in zip(by_id, by_key + [None]) for r in pair if r is not None]
    for report in reports:
        record_delivery(sandbox.grant_id, report, now=time.time())
    severity = ["delivered", "complaint", "bounced"]
    worst = max(order, key=severity.index)
    assert get_entry(entry.command_result_id).delivery_status == worst
    assert AuditRow.select().where(AuditRow.action.startswith("outbox.") & AuditRow.action.in_(
        [f"outbox.{s}" for s in severity])).count() == len(order)
    other = DeliveryReport(status="failed", message_id="sent-1", command_result_id=entry.command_result_id)
    assert record_delivery("another-grant", other, now=time.time()) == "unmatched"
    assert get_entry(entry.command_result_id).delivery_status == worst


def test_ten_thousand_forged_delivery_events_change_nothing(outbound):
    config, gateway, sandbox = outbound
    entry = _entry(config, sandbox)
    secret = "the-real-secret"
    app = build_app(config, secrets=[secret])
    bodies = [json.dumps({
        "specversion": "1.0", "type": "message.bounced", "id": f"forged-{i}", "time": int(time.time()),
        "source": "/nylas/send",
        "data": {"grant_id": sandbox.grant_id, "object": {
            "message": {"id": "sent-1", "metadata": {"command_result_id": entry.command_result_id}},
            "bounce": {"bounced_at": int(time.time()), "type": "NoEmail", "recipients": [{"email": "a@b.example"}]}}},
    }).encode() for i in range(10_000)]
    forged = [hmac.new(b"guessed-secret-%d" % (i % 7), body, hashlib.sha256).hexdigest()
              for i, body in enumerate(bodies)]
    forged[::3] = ["0" * 64] * len(forged[::3])
    forged[1::5] = ["sha256=" + hashlib.sha256(b).hexdigest() for b in bodies[1::5]]
    # The receiver's verification path on all of them, then a sample through the real app over HTTP.
    assert not any(verify_signature(b, s, [secret], max_bytes=config.webhook.max_body_bytes)
                   for b, s in zip(bodies, forged))
    audit_before = AuditRow.select().count()
    with TestClient(app) as client:
        codes = {client.post(PATH, content=bodies[i], headers={"x-nylas-signature": forged[i],
                                                                "content-type": "application/json"}).status_code
                 for i in range(0, 10_000, 50)}
    assert codes == {401} and app.state.counters["bad_signature"] == 200
    drain(config, gateway)
    assert WebhookEventRow.select().count() == 0 and AuditRow.select().count() == audit_before
    assert get_entry(entry.command_result_id).delivery_status == ""
