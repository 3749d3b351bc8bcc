"""The signed-webhook receiver (ASGI): verify the raw body, store one durable event row, then 200."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from urllib.parse import unquote_to_bytes

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from triage_tui.config import Config, webhook_secrets
from triage_tui.domain import AuditEvent
from triage_tui.nylas.webhooks import (
    SIGNATURE_HEADER,
    BadChallenge,
    BadEnvelope,
    challenge_response,
    is_fresh,
    parse_envelope,
    verify_signature,
)
from triage_tui.ops.events import WebhookOutcomes
from triage_tui.ops.http import ops_routes
from triage_tui.store.audit import record_audit
from triage_tui.store.db import write_transaction
from triage_tui.store.transient import log_failure, retrying
from triage_tui.store.webhook_events import UNPARSEABLE, record_event, record_events

log = logging.getLogger(__name__)
PATH = "/webhooks/nylas"
MAX_GROUP = 500
GZIP_RATIO = 8


class _TooLarge(Exception):
    pass


def build_app(config: Config, *, secrets: list[str] | None = None) -> Starlette:
    """The receiver app; `secrets` default to NYLAS_WEBHOOK_SECRET (comma-separated)."""
    keys = secrets if secrets is not None else webhook_secrets()
    allowed = set(config.grant_ids)
    max_bytes = config.webhook.max_body_bytes
    counters: Counter = WebhookOutcomes()
    writer = GroupWriter()

    async def challenge(request: Request) -> Response:
        try:
            value = challenge_response(_raw_query_value(request.scope.get("query_string", b""), b"challenge"))
        except BadChallenge as exc:
            counters["bad_challenge"] += 1
            return Response(str(exc), 400, media_type="text/plain")
        counters["challenge"] += 1
        return Response(value, 200, media_type="text/plain")

    async def notification(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            counters["too_large"] += 1
            return Response("body too large", 413, media_type="text/plain")
        try:
            raw = await _read_capped(request, max_bytes)
        except _TooLarge:
            counters["too_large"] += 1
            return Response("body too large", 413, media_type="text/plain")
        signature = request.headers.get(SIGNATURE_HEADER)
        body = raw
        if request.headers.get("content-encoding", "").strip().lower() == "gzip":
            body = _gunzip(raw, GZIP_RATIO * max_bytes)
        signed = verify_signature(raw, signature, keys, max_bytes=max_bytes) or (
            body is not None and body is not raw
            and verify_signature(body, signature, keys, max_bytes=GZIP_RATIO * max_bytes))
        if not signed:
            counters["bad_signature"] += 1
            return Response("invalid signature", 401, media_type="text/plain")
        raw = raw if body is None else body
        try:
            accepted = await _accept(raw)
            return accepted if isinstance(accepted, Response) else await _store(accepted, raw)
        except Exception as exc:  # noqa: BLE001 - never a 500: ask Nylas to retry later
            log_failure(log, "webhook event not stored (503, Nylas retries)", exc)
            counters["store_error"] += 1
            return Response("store unavailable", 503, media_type="text/plain")

    async def _accept(raw: bytes):
        """A refusal or acknowledgement Response, or the envelope to store."""
        now = time.time()
        try:
            envelope = parse_envelope(raw)
        except BadEnvelope as exc:
            digest, error = hashlib.sha256(raw).hexdigest(), str(exc)
            await writer.run(lambda: record_event(
                f"unparseable:{digest}", grant_id="", message_id="", trigger="", raw=raw,
                status=UNPARSEABLE, error=error, received_at=now))
            counters["unparseable"] += 1
            return Response("kept", 200, media_type="text/plain")
        if not is_fresh(envelope, now, config.webhook.tolerance_s):
            counters["stale"] += 1
            return Response("stale notification", 400, media_type="text/plain")
        if envelope.grant_id not in allowed:
            counters["unknown_grant"] += 1
            await writer.run(lambda: _audit_refused(envelope, now))
            return Response("grant not configured", 403, media_type="text/plain")
        return envelope

    async def _store(envelope, raw: bytes) -> Response:
        new = await writer.submit(dict(event_id=envelope.id, grant_id=envelope.grant_id,
                                       message_id=envelope.object_id, trigger=envelope.type, raw=raw))
        counters["stored" if new else "duplicate"] += 1
        return Response("ok", 200, media_type="text/plain")

    def _audit_refused(envelope, now: float) -> None:
        with write_transaction():
            record_audit(AuditEvent(
                action="webhook.refused_grant", actor="webhook",
                at=datetime.fromtimestamp(now, tz=timezone.utc), tenant_id=config.tenant_id,
                environment=config.environment, grant_id=envelope.grant_id[:255],
                event_id=envelope.id[:255], webhook_trigger=envelope.type[:255],
                detail={"reason": "grant not in the config"},
            ))

    async def stats(request: Request) -> Response:
        return JSONResponse(dict(counters))

    app = Starlette(routes=[
        Route(PATH, challenge, methods=["GET"]),
        Route(PATH, notification, methods=["POST"]),
        Route(PATH + "/stats", stats, methods=["GET"]),
        *ops_routes(config),
    ])
    app.state.counters = counters
    return app


class GroupWriter:
    """Group commit: requests that arrive while a write runs are stored together in the next one.

    Every caller still gets its answer only after the transaction holding its row committed; the
    write runs in one dedicated thread so the event loop keeps accepting requests meanwhile.
    """

    def __init__(self) -> None:
        self._queue: list[tuple[dict, asyncio.Future]] = []
        self._flushing = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhook-writer")

    async def submit(self, event: dict) -> bool:
        """Store one event; True when it was new."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.append((event, future))
        if not self._flushing:
            self._flushing = True
            loop.create_task(self._flush())
        return await future

    async def run(self, write):
        """Run a one-off write on the writer thread, so the event loop never waits on a lock."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, retrying, write)

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
                try:
                    results = await loop.run_in_executor(self._executor, _write, [e for e, _ in batch])
                except Exception as exc:  # noqa: BLE001 - every waiter gets the failure (a 503)
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), new in zip(batch, results):
                    if not future.done():
                        future.set_result(new)
        finally:
            self._flushing = False


def _write(events: list[dict]) -> list[bool]:
    # the writer thread keeps its own connection open between groups (and opens a new one after a restart)
    return retrying(record_events, events)


def _gunzip(raw: bytes, limit: int) -> bytes | None:
    """The decompressed body, or None when it is not gzip or inflates past `limit`."""
    try:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(raw, limit + 1)
    except zlib.error:
        return None
    return None if len(out) > limit or inflater.unconsumed_tail else out


async def _read_capped(request: Request, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _raw_query_value(query: bytes, name: bytes) -> bytes | None:
    """A query parameter's value as the exact bytes that were sent (percent-decoded only)."""
    for part in query.split(b"&"):
        key, sep, value = part.partition(b"=")
        if unquote_to_bytes(key.replace(b"+", b" ")) == name and sep:
            return unquote_to_bytes(value.replace(b"+", b" "))
    return None
