"""Small helpers for sandbox tests: a local webhook receiver and bulk inbound mail."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def fill(sb, count: int, *, grant_id: str | None = None, start: int = 1_700_000_000) -> list[str]:
    """Deliver `count` structured inbound mails with increasing dates; returns their ids."""
    ids = []
    for i in range(count):
        ids.append(sb.deliver(grant_id, **{
            "from": {"name": f"User {i}", "email": f"user{i}@customer{i % 7}.example.com"},
            "to": [sb.email], "subject": f"Ticket {i}", "body": f"Body of mail {i}",
            "received_at": start + i // 3, "headers": {"Message-ID": f"<mail-{i}@example.com>"},
        })["id"])
    return ids


class Receiver:
    """A webhook destination on 127.0.0.1 that records raw POST bodies and headers."""

    def __init__(self, *, echo_challenge: bool = True, fail_first: int = 0) -> None:
        self.posts: list[tuple[dict, bytes]] = []
        self.challenges: list[str] = []
        self.fail_first = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                challenge = parse_qs(urlparse(self.path).query).get("challenge", [""])[0]
                outer.challenges.append(challenge)
                body = challenge.encode() if echo_challenge else b"nope"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts.append(({k.lower(): v for k, v in self.headers.items()}, raw))
                failing = len(outer.posts) <= outer.fail_first
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/nylas"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop listening."""
        self.server.shutdown()
        self.server.server_close()
