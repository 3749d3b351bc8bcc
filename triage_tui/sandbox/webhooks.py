"""Webhook destinations and signed, retried, at-least-once delivery from a background thread."""

from __future__ import annotations

import gzip
import hashlib
import heapq
import hmac
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from triage_tui.sandbox.guardrails import APPLICATION_ID

TRUNCATE_ABOVE = 1_000_000
TRUNCATED_FIELDS = ("body", "attachments", "headers")
MAX_ATTEMPTS = 3
KNOWN_TRIGGERS = {"message.created", "message.updated", "message.deleted", "message.send_success",
                  "message.send_failed", "thread.replied", "grant.created", "grant.updated",
                  "grant.deleted", "grant.expired", "folder.created", "folder.updated",
                  "folder.deleted", "message.bounce_detected", "message.opened",
                  "message.delivered", "message.bounced", "message.complaint", "message.rejected",
                  "message.transactional.delivered", "message.transactional.bounced",
                  "message.transactional.complaint", "message.transactional.rejected"}
PUBLIC_FIELDS = ("id", "description", "trigger_types", "webhook_url", "status",
                 "notification_email_addresses", "status_updated_at", "created_at", "updated_at",
                 "compressed_delivery")


class WebhookError(ValueError):
    """A webhook request the API refuses."""


def sign(secret: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def public(dest: dict, *, with_secret: bool = False) -> dict:
    """A destination as the API shows it (the secret only on create and rotate)."""
    out = {k: dest[k] for k in PUBLIC_FIELDS}
    if with_secret:
        out["webhook_secret"] = dest["webhook_secret"]
    return out


def validate(body: dict, *, partial: bool) -> dict:
    """A clean create/update body, or WebhookError."""
    if not isinstance(body, dict):
        raise WebhookError("request body must be a JSON object")
    if not partial:
        for required in ("trigger_types", "webhook_url"):
            if not body.get(required):
                raise WebhookError(f"{required} is required")
    out: dict = {}
    if "trigger_types" in body:
        triggers = body["trigger_types"]
        if not isinstance(triggers, list) or not triggers or not all(
                isinstance(t, str) for t in triggers):
            raise WebhookError("trigger_types must be a non-empty list of strings")
        unknown = [t for t in triggers if t not in KNOWN_TRIGGERS]
        if unknown:
            raise WebhookError(f"unknown trigger type: {unknown[0]}")
        out["trigger_types"] = triggers
    if "webhook_url" in body:
        url = body["webhook_url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise WebhookError("webhook_url must be an http(s) URL")
        out["webhook_url"] = url
    if "status" in body:
        if body["status"] not in ("active", "pause"):
            raise WebhookError("status must be active or pause")
        out["status"] = body["status"]
    for key in ("description", "notification_email_addresses", "compressed_delivery"):
        if key in body:
            out[key] = body[key]
    return out


def new_destination(clean: dict) -> dict:
    """A destination record (status set by the caller after the challenge)."""
    now = int(time.time())
    return {"id": str(uuid.uuid4()), "description": "", "notification_email_addresses": [],
            "compressed_delivery": False, "status": "pause", "status_updated_at": now,
            "created_at": now, "updated_at": now, "webhook_secret": secrets.token_hex(32),
            **clean}


def notification(trigger: str, obj: dict, source: str = "/nylas/emails/realtime", *,
                 grant_id: str | None = None, extra: dict | None = None) -> dict:
    """A CloudEvents-style envelope; objects over 1 MB become the `.truncated` variant."""
    size = len(json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > TRUNCATE_ABOVE:
        obj = {k: v for k, v in obj.items() if k not in TRUNCATED_FIELDS}
        trigger += ".truncated"
    return {"specversion": "1.0", "type": trigger, "source": source,
            "id": uuid.uuid4().hex, "time": int(time.time()),
            "data": {"application_id": APPLICATION_ID, "grant_id": grant_id or obj.get("grant_id"),
                     **(extra or {}), "object": obj}}


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    dest_id: str = field(compare=False)
    event: dict = field(compare=False)
    attempt: int = field(compare=False, default=1)


class Deliverer:
    """Delivers notifications to destinations from one background thread, with retries."""

    def __init__(self, lookup, stats, *, backoff_s: float = 2.0, timeout_s: float = 10.0) -> None:
        self._lookup = lookup  # dest id -> destination dict or None
        self._stats = stats
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self._heap: list[_Job] = []
        self._seq = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._busy = 0
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def enqueue(self, dest_id: str, event: dict, copies: int = 1, *, delay_s: float = 0.0) -> None:
        """Queue one event for one destination (copies > 1 simulates duplicate delivery)."""
        with self._cond:
            for _ in range(copies):
                self._seq += 1
                due = time.monotonic() + delay_s
                heapq.heappush(self._heap, _Job(due, self._seq, dest_id, event))
            self._cond.notify()

    def idle(self) -> bool:
        """True when nothing is queued or being sent."""
        with self._cond:
            return not self._heap and not self._busy

    def stop(self) -> None:
        """Stop the thread (queued jobs are dropped)."""
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s, trust_env=False) as client:
            while True:
                with self._cond:
                    while not self._stopped and (
                            not self._heap or self._heap[0].due > time.monotonic()):
                        wait = self._heap[0].due - time.monotonic() if self._heap else None
                        self._cond.wait(timeout=wait)
                    if self._stopped:
                        return
                    job = heapq.heappop(self._heap)
                    self._busy += 1
                try:
                    self._attempt(client, job)
                finally:
                    with self._cond:
                        self._busy -= 1

    def _attempt(self, client: httpx.Client, job: _Job) -> None:
        dest = self._lookup(job.dest_id)
        if dest is None or dest["status"] == "pause":
            return
        body = json.dumps({**job.event, "webhook_delivery_attempt": job.attempt},
                          ensure_ascii=False).encode("utf-8", "surrogatepass")
        headers = {"Content-Type": "application/json"}
        if dest.get("compressed_delivery"):
            body = gzip.compress(body, mtime=0)
            headers["Content-Encoding"] = "gzip"
        headers["X-Nylas-Signature"] = sign(dest["webhook_secret"], body)  # over the sent bytes
        ok = False
        status = 0
        try:
            response = client.post(dest["webhook_url"], content=body, headers=headers)
            status = response.status_code
            ok = 200 <= status < 300
        except httpx.HTTPError:
            ok = False
        self._stats.webhook_attempt(dest["id"], job.event, job.attempt, status, ok)
        if not ok and job.attempt < MAX_ATTEMPTS:
            with self._cond:
                self._seq += 1
                due = time.monotonic() + self.backoff_s * (2 ** (job.attempt - 1))
                heapq.heappush(self._heap, _Job(due, self._seq, job.dest_id, job.event,
                                                job.attempt + 1))
                self._cond.notify()
