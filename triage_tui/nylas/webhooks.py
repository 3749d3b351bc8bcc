"""Nylas webhook checks on raw bytes: signature, typed envelope, freshness and the challenge echo."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

SIGNATURE_HEADER = "X-Nylas-Signature"
MAX_FUTURE_S = 300
MAX_CHALLENGE_BYTES = 4096
_HEX64 = re.compile(rb"[0-9a-f]{64}")
# A queued send that fails may be reported with `data.object: null`: kept, then matched by other means.
OBJECTLESS_TRIGGERS = ("message.send_failed",)


class BodyTooLarge(Exception):
    """A webhook body over the configured cap; answer 413 without reading or hashing it."""

    def __init__(self, size: int, max_bytes: int) -> None:
        super().__init__(f"webhook body of {size} bytes is over the {max_bytes} byte cap")
        self.size = size
        self.max_bytes = max_bytes


class BadEnvelope(ValueError):
    """A signed body that is not a usable notification envelope."""


class BadChallenge(ValueError):
    """A challenge request without a usable `challenge` value."""


def ensure_size(size: int | None, max_bytes: int) -> None:
    """Raise BodyTooLarge when a (declared or read) body size is over the cap."""
    if size is not None and size > max_bytes:
        raise BodyTooLarge(size, max_bytes)


def verify_signature(raw_body: bytes, signature: str | bytes | None, secrets: list[str],
                     *, max_bytes: int) -> bool:
    """True only when `signature` is the hex HMAC-SHA256 of the raw body under one of `secrets`."""
    try:
        return _verify(raw_body, signature, secrets, max_bytes)
    except Exception:  # noqa: BLE001 - a forged header must be a refusal, never a 500
        return False


def _verify(raw_body: bytes, signature: str | bytes | None, secrets: list[str], max_bytes: int) -> bool:
    if signature is None or not isinstance(raw_body, bytes | bytearray | memoryview):
        return False
    body = bytes(raw_body)
    if len(body) > max_bytes:
        return False
    given = _signature_bytes(signature)
    if given is None:
        return False
    if isinstance(secrets, str | bytes):
        secrets = [secrets]
    matched = False
    for secret in secrets or ():
        key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if not key:
            continue
        expected = hmac.new(key, body, hashlib.sha256).hexdigest().encode("ascii")
        matched |= hmac.compare_digest(expected, given)
    return matched


def _signature_bytes(signature: str | bytes) -> bytes | None:
    if isinstance(signature, str):
        try:
            raw = signature.encode("ascii")
        except UnicodeEncodeError:
            return None
    elif isinstance(signature, bytes | bytearray):
        raw = bytes(signature)
    else:
        return None
    raw = raw.strip().lower()
    if raw.startswith(b"sha256="):
        raw = raw[len(b"sha256="):]
    return raw if _HEX64.fullmatch(raw) else None


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class SentSummary(_Model):
    """The `message` summary a delivery-status notification carries about one of our sends."""

    id: str = ""


class WebhookObject(_Model):
    """The object a notification points at; a hint to re-fetch, never the truth."""

    id: str = ""
    grant_id: str = ""
    object: str = ""
    thread_id: str = ""
    message: SentSummary | None = None  # delivery triggers: the sent message is described here


class WebhookData(_Model):
    """The `data` member of a notification."""

    application_id: str = ""
    grant_id: str = ""
    object: WebhookObject | None = None  # message.send_failed may carry null


class WebhookEnvelope(_Model):
    """A CloudEvents-style Nylas notification: id (dedupe key), type, signed time, object ids."""

    id: str
    type: str
    time: int
    source: str = ""
    specversion: str = ""
    webhook_delivery_attempt: int = 1
    data: WebhookData

    @model_validator(mode="after")
    def _usable(self) -> "WebhookEnvelope":
        if not self.id.strip() or not self.type.strip():
            raise ValueError("id and type must not be empty")
        if not self.object_id.strip() and not self.type.startswith(OBJECTLESS_TRIGGERS):
            raise ValueError("data.object.id (or data.object.message.id) must not be empty")
        if not self.grant_id:
            raise ValueError("no grant_id in data or data.object")
        return self

    @property
    def grant_id(self) -> str:
        """The grant the object belongs to (object level first, then data level)."""
        return (self.data.object.grant_id if self.data.object else "") or self.data.grant_id

    @property
    def object_id(self) -> str:
        """The id of the message (or other object) the notification is about ("" when it names none)."""
        obj = self.data.object
        if obj is None:
            return ""
        return obj.id or (obj.message.id if obj.message else "")

    @property
    def truncated(self) -> bool:
        """True for `*.truncated` notifications whose large fields were left out."""
        return self.type.endswith(".truncated")


def parse_envelope(raw_body: bytes) -> WebhookEnvelope:
    """Parse a (verified) raw body into a WebhookEnvelope, or raise BadEnvelope."""
    try:
        text = bytes(raw_body).decode("utf-8")
        payload = json.loads(text)
    except (TypeError, ValueError, RecursionError) as exc:
        raise BadEnvelope(f"body is not UTF-8 JSON: {type(exc).__name__}") from None
    if not isinstance(payload, dict):
        raise BadEnvelope("body is not a JSON object")
    try:
        return WebhookEnvelope.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise BadEnvelope(f"{where}: {first['msg']}") from None
    except RecursionError:
        raise BadEnvelope("body nests too deeply") from None


def is_fresh(envelope: WebhookEnvelope, now: float | datetime, tolerance_s: float) -> bool:
    """True when the signed `time` is at most `tolerance_s` old and at most 5 minutes ahead."""
    current = now.timestamp() if isinstance(now, datetime) else float(now)
    return current - tolerance_s <= envelope.time <= current + MAX_FUTURE_S


def challenge_response(query_value: str | bytes | None) -> bytes:
    """The body answering a `?challenge=` GET: the value itself, byte for byte."""
    if query_value is None:
        raise BadChallenge("missing challenge parameter")
    if isinstance(query_value, bytes | bytearray):
        value = bytes(query_value)
    else:
        try:
            value = str(query_value).encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise BadChallenge("challenge is not encodable") from None
    if not value:
        raise BadChallenge("empty challenge parameter")
    if len(value) > MAX_CHALLENGE_BYTES:
        raise BadChallenge(f"challenge over {MAX_CHALLENGE_BYTES} bytes")
    return value
