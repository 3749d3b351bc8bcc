"""webhooks.py against the sandbox's real signed deliveries: challenge, signature, envelope."""

from __future__ import annotations

import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from triage_tui.nylas.webhooks import (
    BadChallenge,
    challenge_response,
    is_fresh,
    parse_envelope,
    verify_signature,
)

MAX_BYTES = 2 * 1024 * 1024


class Receiver(BaseHTTPRequestHandler):
    """A minimal receiver using only webhooks.py: echo challenges, queue signed bodies."""

    received: queue.Queue = queue.Queue()

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        values = parse_qs(urlparse(self.path).query, keep_blank_values=True).get("challenge")
        try:
            body = challenge_response(values[0] if values else None)
        except BadChallenge:
            self.send_response(400)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.put((raw, self.headers.get("X-Nylas-Signature")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    Receiver.received = queue.Queue()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/nylas", Receiver.received
    server.shutdown()
    server.server_close()


def test_sandbox_deliveries_verify_and_parse(make_sandbox, receiver):
    url, received = receiver
    sandbox = make_sandbox(messages=0)
    created = sandbox.admin("POST", "/v3/webhooks", json={
        "trigger_types": ["message.created"], "webhook_url": url, "description": "test"})
    assert created.status_code == 200, created.text
    secret = created.json()["data"]["webhook_secret"]
    message = sandbox.deliver(**{"from": "ann@customer.example", "to": [sandbox.email],
                                 "subject": "Webhook me", "body": "hello"})
    raw, signature = received.get(timeout=10)
    assert verify_signature(raw, signature, [secret], max_bytes=MAX_BYTES)
    assert not verify_signature(raw, signature, ["another-secret"], max_bytes=MAX_BYTES)
    envelope = parse_envelope(raw)
    assert envelope.type == "message.created"
    assert (envelope.grant_id, envelope.object_id) == (sandbox.grant_id, message["id"])
    assert is_fresh(envelope, time.time(), 3600)
