"""Send: request validation, reply threading headers, and the Idempotency-Key cache."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass

from triage_tui.sandbox.mailbox import Mailbox, MailRecord

IDEMPOTENCY_TTL_S = 3600
MAX_KEY_LENGTH = 256


class SendError(ValueError):
    """A send body the API refuses (400), or a missing original (404)."""

    def __init__(self, message: str, status: int = 400, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status = status
        self.kind = kind


def _people(value, key: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SendError(f"{key} must be a list of participants")
    out = []
    for person in value:
        if not isinstance(person, dict) or not isinstance(person.get("email"), str) or \
                "@" not in person["email"]:
            raise SendError(f"{key} needs objects with a valid email")
        out.append((str(person.get("name") or ""), person["email"]))
    return out


def build_sent(mailbox: Mailbox, body: dict) -> tuple[MailRecord, str | None]:
    """The sent mail's record from a send body; also the original message id if it replies."""
    if not isinstance(body, dict):
        raise SendError("request body must be a JSON object")
    to = _people(body.get("to"), "to")
    if not to:
        raise SendError("to is required")
    sender = _people(body.get("from"), "from") or [(mailbox.name, mailbox.email)]
    headers_in = body.get("custom_headers") or []
    if not isinstance(headers_in, list) or not all(
            isinstance(h, dict) and isinstance(h.get("name"), str) for h in headers_in):
        raise SendError("custom_headers must be a list of {name, value}")
    subject = body.get("subject") or ""
    text = body.get("body") or ""
    if not isinstance(subject, str) or not isinstance(text, str):
        raise SendError("subject and body must be strings")
    message_id = f"<{uuid.uuid4().hex}@sandbox.nylas.email>"
    in_reply_to, references = "", []
    original_id = body.get("reply_to_message_id")
    if original_id:
        original = mailbox.messages.get(str(original_id))
        if original is None:
            raise SendError(f"reply_to_message_id {original_id} not found", 404, "not_found_error")
        in_reply_to = original.record.message_id
        references = [*original.record.references, original.record.message_id]
    headers = [("Message-ID", message_id), ("Subject", subject),
               ("From", ", ".join(f"{n} <{e}>" if n else e for n, e in sender)),
               ("To", ", ".join(e for _, e in to))]
    if in_reply_to:
        headers += [("In-Reply-To", in_reply_to), ("References", " ".join(references))]
    headers += [(h["name"], str(h.get("value", ""))) for h in headers_in]
    snippet = " ".join(text.split())[:100]
    record = MailRecord(
        subject=subject, from_=sender, to=to, cc=_people(body.get("cc"), "cc"),
        bcc=_people(body.get("bcc"), "bcc"), reply_to=_people(body.get("reply_to"), "reply_to"),
        headers=headers, body=text, snippet=snippet, message_id=message_id,
        in_reply_to=in_reply_to, references=references,
    )
    return record, original_id


@dataclass
class _Entry:
    fingerprint: str
    expires: float
    response: tuple[int, bytes] | None = None  # None while in flight


class IdempotencyCache:
    """Responses by (grant, Idempotency-Key) for one hour, as Nylas documents."""

    def __init__(self, ttl_s: float = IDEMPOTENCY_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()

    @staticmethod
    def fingerprint(body: bytes) -> str:
        """A payload hash that ignores key order and whitespace when the body is JSON."""
        try:
            canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
            return hashlib.sha256(canonical.encode()).hexdigest()
        except ValueError:
            return hashlib.sha256(body).hexdigest()

    def begin(self, grant_id: str, key: str, fingerprint: str):
        """('new', None) to go ahead, ('replay', response), or ('conflict'|'in_flight', None)."""
        now = time.monotonic()
        with self._lock:
            if len(self._entries) > 50_000:
                self._entries = {k: e for k, e in self._entries.items() if e.expires >= now}
            entry = self._entries.get((grant_id, key))
            if entry is not None and entry.expires < now:
                entry = None
            if entry is None:
                self._entries[(grant_id, key)] = _Entry(fingerprint, now + self.ttl_s)
                return "new", None
            if entry.fingerprint != fingerprint:
                return "conflict", None
            if entry.response is None:
                return "in_flight", None
            return "replay", entry.response

    def finish(self, grant_id: str, key: str, status: int, body: bytes) -> None:
        """Store the response of a request that began."""
        with self._lock:
            entry = self._entries.get((grant_id, key))
            if entry is not None:
                entry.response = (status, body)

    def abandon(self, grant_id: str, key: str) -> None:
        """Forget a request that never produced a response."""
        with self._lock:
            entry = self._entries.get((grant_id, key))
            if entry is not None and entry.response is None:
                del self._entries[(grant_id, key)]
