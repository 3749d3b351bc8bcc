"""A signed JSON POST to a URL the team owns, per Standard Webhooks 1.0.0.

`webhook-id` is the write's command_result_id and stays the same on every retry (the receiver's
idempotency key); `webhook-timestamp` is this attempt's; `webhook-signature` is `v1,<base64 HMAC-SHA256>`
over `{id}.{timestamp}.{body}` with the `whsec_` secret. The body bytes never change between attempts.
A 2xx answer may carry `{"key": ..., "url": ...}`, which becomes the ticket's external key and URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone

import httpx

from triage_tui.domain import TrackerOp
from triage_tui.trackers.base import Reconciled, WriteRequest, WriteResult, misconfigured
from triage_tui.trackers.http import split_url, HttpTracker, parse_retry_after, secret_from_env
from triage_tui.trackers.render import customer_text, marker, title

EVENT_TYPES = {TrackerOp.CREATE: "ticket.created", TrackerOp.COMMENT: "ticket.commented",
               TrackerOp.STATUS: "ticket.status_changed"}
THROTTLE_STATUSES = (429, 502, 504)


def secret_bytes(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (a bare base64 string works too)."""
    raw = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        raise misconfigured("the webhook secret is not whsec_ followed by base64") from None
    if len(key) < 16:
        raise misconfigured("the webhook secret is shorter than 16 bytes")
    return key


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for these exact bytes."""
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def event_body(tracker: str, request: WriteRequest) -> bytes:
    """The JSON body of one write; the same bytes on every attempt."""
    payload = dict(request.payload)
    data: dict = {"ticket_id": request.ticket_id, "command_result_id": request.command_result_id,
                  "tracker": tracker, "op": request.op.value, "marker": marker(request.command_result_id)}
    if request.op is TrackerOp.CREATE:
        data.update(title=title(payload, 250), category=payload.get("category"), urgency=payload.get("urgency"),
                    sender=payload.get("sender"), grant_id=payload.get("grant_id"), thread_id=payload.get("thread_id"),
                    message_id=payload.get("message_id"), received_at=payload.get("received_at"),
                    link=payload.get("link"),
                    customer_text={"untrusted": True, "text": customer_text(payload.get("customer_text", ""))})
    elif request.op is TrackerOp.COMMENT:
        data.update(author=payload.get("author"), at=payload.get("at"), sender=payload.get("sender"),
                    text={"untrusted": payload.get("author") != "agent", "text": customer_text(payload.get("text", ""))})
    else:
        data.update(status=payload.get("status"), reason=payload.get("reason", ""))
    if request.ref is not None:
        data["external_key"] = request.ref.external_key
    stamp = datetime.fromtimestamp(request.first_attempt_at or time.time(), tz=timezone.utc).isoformat()
    return json.dumps({"type": EVENT_TYPES[request.op], "timestamp": stamp, "data": data},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class WebhookTracker(HttpTracker):
    """One receiving URL."""

    kind = "webhook"

    def __init__(self, name: str, config, *, transport: httpx.BaseTransport | None = None) -> None:
        self.key = secret_bytes(secret_from_env(config.secret_env, f"webhook tracker {name!r}"))
        origin, self.path = split_url(config.url)
        super().__init__(name, config, base_url=origin, transport=transport,
                         headers={"Content-Type": "application/json"})

    def rate_limit_wait(self, response: httpx.Response) -> float | None:
        """429, 502 and 504 mean "throttle" in Standard Webhooks; Retry-After is honoured."""
        if response.status_code in THROTTLE_STATUSES:
            return parse_retry_after(response.headers.get("retry-after")) or 30.0
        return None

    def write(self, request: WriteRequest) -> WriteResult:
        """POST the signed event; a 3xx is a failure (never followed), 410 means the endpoint is gone."""
        body = event_body(self.name, request)
        stamp = int(time.time())
        headers = {"webhook-id": request.command_result_id, "webhook-timestamp": str(stamp),
                   "webhook-signature": sign(self.key, request.command_result_id, stamp, body)}
        sent = self.request("POST", self.path, content=body, headers=headers)
        answer = {}
        try:
            parsed = sent.json()
            answer = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            pass
        if request.op is TrackerOp.CREATE:
            key = str(answer.get("key") or request.ticket_id)
            return WriteResult(external_id=key, external_key=key, url=str(answer.get("url") or ""))
        return WriteResult(remote_id=str(answer.get("id") or ""))

    def reconcile(self, request: WriteRequest, now: float) -> Reconciled:
        """The receiver dedupes on webhook-id: a resend is always safe."""
        return Reconciled.absent()

