"""The webhook receiver: challenge, size cap, signature, durable rows, refusals, and a live sandbox."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from starlette.testclient import TestClient

from triage_tui.config import Config, DatabaseConfig, InboxConfig, WebhookConfig
from triage_tui.ingest.receiver import PATH, build_app
from triage_tui.ingest.worker import CycleReport, Worker
from triage_tui.store.models import AuditRow, MessageRow, WebhookEventRow

from .conftest import gateway_for

SECRET = "s3cret-new"
OLD_SECRET = "s3cret-old"


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(event_id="ev-1", grant_id="g1", message_id="m1", trigger="message.created", at=None) -> bytes:
    return json.dumps({
        "specversion": "1.0", "type": trigger, "id": event_id, "time": int(at or time.time()),
        "source": "/nylas/emails/realtime",
        "data": {"application_id": "app", "grant_id": grant_id, "object": {"id": message_id, "grant_id": grant_id}},
    }).encode()


@pytest.fixture
def client(db, db_url):
    config = Config(inboxes=[InboxConfig(grant_id="g1", email="support@acme.example")],
                    database=DatabaseConfig(url=db_url), webhook=WebhookConfig(max_body_bytes=4096))
    return TestClient(build_app(config, secrets=[OLD_SECRET, SECRET]))


def post(client, body: bytes, signature: str | None = None, **headers):
    headers = {"content-type": "application/json", **headers}
    if signature is not None:
        headers["x-nylas-signature"] = signature
    return client.post(PATH, content=body, headers=headers)


def test_challenge_is_echoed_byte_for_byte(client):
    for value in ["abc123", "k%C3%A9y+with%20space%26amp", "x" * 200]:
        response = client.get(f"{PATH}?challenge={value}")
        assert response.status_code == 200
        assert response.content == httpx.URL(f"/?c={value}").params["c"].encode()
    assert client.get(PATH).status_code == 400


def test_oversized_body_gets_413_before_any_signature_check(client):
    big = b"{" + b" " * 5000 + b"}"
    assert post(client, big, sign(big)).status_code == 413
    assert post(client, big).status_code == 413
    assert WebhookEventRow.select().count() == 0


@pytest.mark.parametrize("signature", [None, "", "nothex", "0" * 64, sign(b"other"), "é".encode() * 32, "a" * 10_000])
def test_bad_signatures_get_401_and_store_nothing(client, signature):
    response = post(client, envelope(), signature)
    assert response.status_code == 401
    assert WebhookEventRow.select().count() == 0


def test_good_signature_is_stored_before_the_200_and_duplicates_collapse(client):
    body = envelope()
    assert post(client, body, sign(body)).status_code == 200
    assert post(client, body, sign(body, OLD_SECRET)).status_code == 200
    row = WebhookEventRow.get()
    assert WebhookEventRow.select().count() == 1
    assert (row.event_id, row.grant_id, row.message_id, row.trigger, row.status) == (
        "ev-1", "g1", "m1", "message.created", "pending")
    assert bytes(row.raw) == body
    assert client.app.state.counters["duplicate"] == 1


def test_unknown_grant_is_refused_and_counted(client):
    body = envelope(grant_id="someone-else")
    assert post(client, body, sign(body)).status_code == 403
    assert WebhookEventRow.select().count() == 0
    assert AuditRow.get().action == "webhook.refused_grant"
    assert client.app.state.counters["unknown_grant"] == 1


def test_signed_but_unparseable_body_is_kept_raw_and_acknowledged(client):
    body = b'{"not": "an envelope"'
    assert post(client, body, sign(body)).status_code == 200
    row = WebhookEventRow.get()
    assert row.status == "unparseable" and bytes(row.raw) == body and row.error


def test_stale_notification_is_refused(client):
    body = envelope(at=time.time() - 7200)
    assert post(client, body, sign(body)).status_code == 400
    assert WebhookEventRow.select().count() == 0


def _serve(app) -> tuple[uvicorn.Server, threading.Thread, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server, thread, sock.getsockname()[1]


def test_live_sandbox_webhooks_end_in_one_stored_message(db, make_sandbox, ingest_config, rules_classifier):
    sandbox = make_sandbox(messages=0)
    config = ingest_config(sandbox)
    sandbox.set_faults(duplicate_webhooks=True)
    receiver_secret: list[str] = []
    app = build_app(config, secrets=receiver_secret)
    server, thread, port = _serve(app)
    try:
        created = sandbox.admin("POST", "/v3/webhooks", {
            "trigger_types": ["message.created"], "webhook_url": f"http://127.0.0.1:{port}{PATH}"})
        assert created.status_code == 200, created.text
        receiver_secret.append(created.json()["data"]["webhook_secret"])
        sent = [sandbox.deliver(subject=f"Printer on fire {i}", body="help", **{"from": "ana@customer.example"})
                for i in range(3)]
        assert sandbox.wait_webhooks_idle(10)
        assert app.state.counters["stored"] == 3 and app.state.counters["duplicate"] >= 1
        Worker(config, gateway_for(config, sandbox), rules_classifier).drain(CycleReport())
        assert {r.message_id for r in MessageRow.select()} == {m["id"] for m in sent}
        assert {e.status for e in WebhookEventRow.select()} == {"done"}
    finally:
        server.should_exit = True
        thread.join(5)


def test_gzip_delivery_is_verified_and_stored_decompressed(client):
    import gzip

    body = envelope(event_id="gz-1")
    packed = gzip.compress(body)
    response = post(client, packed, sign(packed), **{"content-encoding": "gzip"})
    assert response.status_code == 200
    row = WebhookEventRow.get()
    assert row.event_id == "gz-1" and bytes(row.raw) == body
    bomb = gzip.compress(b"{" + b" " * 100_000 + b"}")
    assert post(client, bomb, sign(bomb), **{"content-encoding": "gzip"}).status_code == 200
    assert WebhookEventRow.get(WebhookEventRow.status == "unparseable").event_id.startswith("unparseable:")
