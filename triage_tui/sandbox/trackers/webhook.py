"""A Standard Webhooks receiver, as a team's endpoint would be: verify, refuse stale, dedupe on webhook-id.

It checks `webhook-signature` (any `v1,` entry; HMAC-SHA256 over `{id}.{timestamp}.{body}` with the
`whsec_` secret, in constant time), refuses a timestamp more than `tolerance_s` away (the reference
library's five minutes), processes each `webhook-id` once (a repeat gets 200 and is not processed
again), and answers a created ticket with `{"key", "url"}`. `max_per_s` adds a 429 limit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from triage_tui.sandbox.trackers.common import FakeTracker, RateLimit


def new_secret() -> str:
    """A fresh `whsec_` secret (32 random bytes)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class FakeWebhookReceiver(FakeTracker):
    """One endpoint at POST /hooks/triage (any path is accepted)."""

    kind = "webhook"

    def __init__(self, *, token: str = "", tolerance_s: float = 300.0, max_per_s: int = 0, **options) -> None:
        limits = [RateLimit("receiver", max_per_s, 1.0, ("POST",), "/")] if max_per_s else []
        super().__init__(token=token or new_secret(), rate_limits=limits, **options)
        self.key = base64.b64decode(self.token.removeprefix("whsec_"))
        self.tolerance_s = tolerance_s
        self._clear()

    def _clear(self) -> None:
        self.processed: dict[str, dict] = {}
        self.attempts: dict[str, int] = {}
        self.refused: list[str] = []

    def authorize(self, headers):
        return None  # the signature is checked on the raw body, in the route

    def error(self, status, message, *, retry_after=None):
        headers = {"retry-after": str(int(retry_after))} if retry_after is not None else {}
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    def verify(self, headers, body: bytes) -> str:
        """"" when the delivery is authentic and fresh, else why not."""
        msg_id, stamp, signature = (headers.get(h, "") for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
        if not (msg_id and stamp and signature):
            return "missing webhook-id, webhook-timestamp or webhook-signature"
        try:
            moment = int(stamp)
        except ValueError:
            return "webhook-timestamp is not an integer"
        if abs(time.time() - moment) > self.tolerance_s:
            return "webhook-timestamp outside the tolerance"
        expected = base64.b64encode(hmac.new(self.key, f"{msg_id}.{stamp}.".encode() + body,
                                             hashlib.sha256).digest()).decode()
        for entry in signature.split():
            version, _, value = entry.partition(",")
            if version == "v1" and hmac.compare_digest(value, expected):
                return ""
        return "no matching v1 signature"

    def routes(self):
        async def receive(request: Request) -> Response:
            body = await request.body()
            why = self.verify(request.headers, body)
            if why:
                with self.lock:
                    self.refused.append(why)
                return self.error(401 if "signature" in why else 400, why)
            msg_id = request.headers["webhook-id"]
            with self.lock:
                self.attempts[msg_id] = self.attempts.get(msg_id, 0) + 1
                if msg_id not in self.processed:
                    event = json.loads(body)
                    number = len(self.processed) + 1
                    self.processed[msg_id] = {"id": msg_id, "number": number, "event": event}
                number = self.processed[msg_id]["number"]
                event_type = self.processed[msg_id]["event"].get("type")
            if event_type == "ticket.created":
                return JSONResponse({"key": f"WH-{number}", "url": f"{self.base_url}/tickets/WH-{number}"})
            return JSONResponse({"id": f"EV-{number}"})

        return [Route("/{path:path}", receive, methods=["POST"])]

    def snapshot(self) -> dict:
        with self.lock:
            events = [dict(p) for p in self.processed.values()]
            attempts, refused = dict(self.attempts), list(self.refused)
        texts = [{"kind": "issue" if e["event"].get("type") == "ticket.created" else "comment",
                  "text": json.dumps(e["event"].get("data", {}), ensure_ascii=False)} for e in events]
        return {"items": events, "comments": [], "texts": texts, "attempts": attempts, "refused": refused,
                "requests": dict(self.requests)}
