"""What the SDK hides or chokes on, over real HTTP: a 202 send, a non-JSON 429, undecodable JSON."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from triage_tui.domain import Address, Reply
from triage_tui.nylas.errors import RateLimited

QUEUED = {"request_id": "r-202", "grant_id": "g", "data": {
    "id": "queued-1", "grant_id": "g", "thread_id": "t-1", "object": "message", "subject": "Re: x"}}


ODD_PAGE = {"request_id": "r-list", "next_cursor": None, "data": [
    {"id": "odd-1", "grant_id": "g", "date": "soon", "from": "ann@customer.example", "subject": "Odd"},
    {"id": "fine-1", "grant_id": "g", "date": 1733945160, "from": [{"email": "bob@customer.example"}]},
]}
NO_GRANT = {"request_id": "r-find", "data": {"id": "odd-1", "date": 1733945160, "subject": "No grant"}}


class Peer(BaseHTTPRequestHandler):
    """Answers a send with 202 (queued), messages with JSON the SDK cannot decode, else HTML 429."""

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(QUEUED).encode()
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        path = self.path.split("?")[0]
        if path in ("/v3/grants/g/messages", "/v3/grants/g/messages/odd-1"):
            body = json.dumps(ODD_PAGE if path.endswith("messages") else NO_GRANT).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        body = b"<html><body>Too Many Requests</body></html>"
        self.send_response(429)
        self.send_header("Content-Type", "text/html")
        self.send_header("Retry-After", "7")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def peer_uri():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Peer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_queued_send_reports_202(peer_uri, gateway_for):
    reply = Reply(grant_id="g", reply_to_message_id="m", to=[Address(email="a@b.example")],
                  subject="Re: x", body="ok")
    result = gateway_for(peer_uri).send_reply(reply, idempotency_key="k-202")
    assert (result.status_code, result.message_id, result.thread_id) == (202, "queued-1", "t-1")
    assert result.request_id == "r-202" and not result.idempotent_replay


def test_non_json_429_is_retried_after_its_retry_after(peer_uri, gateway_for, recorded_sleep):
    gateway = gateway_for(peer_uri, max_retries=2)
    with pytest.raises(RateLimited) as caught:
        gateway.get_grant("g")
    assert caught.value.status == 429 and caught.value.retry_after == 7.0
    assert "non-JSON" in caught.value.message
    assert len(recorded_sleep.waits) == 2 and all(w >= 7.0 for w in recorded_sleep.waits)


def test_a_page_the_sdk_models_cannot_decode_is_read_as_raw_json_in_one_request(peer_uri, gateway_for):
    gateway = gateway_for(peer_uri)
    pages = list(gateway.iter_message_pages("g"))
    messages = {m.message_id: m for page in pages for m in page.messages}
    assert set(messages) == {"odd-1", "fine-1"}
    assert messages["odd-1"].sender.email == "ann@customer.example" and messages["odd-1"].subject == "Odd"
    assert messages["fine-1"].sender.email == "bob@customer.example"
    assert gateway.stats.requests == 1


def test_a_message_the_sdk_cannot_decode_is_read_as_raw_json(peer_uri, gateway_for):
    message = gateway_for(peer_uri).get_message("g", "odd-1")
    assert (message.message_id, message.grant_id, message.subject) == ("odd-1", "g", "No grant")
