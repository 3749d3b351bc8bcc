"""HTTP plumbing shared by the sandbox routes: envelopes, errors, auth and fault gate."""

from __future__ import annotations

import asyncio
import hmac
import json
import uuid

from starlette.requests import Request
from starlette.responses import Response

from triage_tui.sandbox.faults import HTML_502

ERROR_TYPES = {400: "invalid_request_error", 401: "unauthorized", 403: "forbidden",
               404: "not_found_error", 405: "invalid_request_error",
               409: "invalid_request_error", 429: "rate_limit_error", 500: "unexpected_error",
               502: "provider_error", 503: "service_unavailable", 504: "provider_error"}
ERROR_MESSAGES = {429: "Too many requests, please try again shortly.",
                  503: "Service temporarily unavailable.",
                  504: "Provider request timed out.", 500: "An unexpected error occurred.",
                  502: "Bad gateway."}


class ApiError(Exception):
    """An error answered with the Nylas error envelope."""

    def __init__(self, status: int, message: str, kind: str | None = None,
                 headers: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind or ERROR_TYPES.get(status, "invalid_request_error")
        self.headers = headers or {}


def request_id() -> str:
    """A fresh request id."""
    return uuid.uuid4().hex


def error_body(status: int, message: str, kind: str | None = None) -> bytes:
    """The JSON error envelope."""
    return json.dumps({"request_id": request_id(), "error": {
        "type": kind or ERROR_TYPES.get(status, "invalid_request_error"),
        "message": message}}).encode()


def error_response(exc: ApiError) -> Response:
    """A Response for an ApiError."""
    return Response(error_body(exc.status, str(exc), exc.kind), exc.status,
                    headers=exc.headers, media_type="application/json")


def raw_envelope(data: bytes, next_cursor: str | None = None, extra: bytes = b"") -> Response:
    """A success envelope around already-serialised data."""
    cursor = b"" if next_cursor is None else b',"next_cursor":' + json.dumps(next_cursor).encode()
    body = b'{"request_id":"' + request_id().encode() + b'","data":' + data + cursor + extra + b"}"
    return Response(body, media_type="application/json")


def dumps(value) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def envelope(data, next_cursor: str | None = None) -> Response:
    """A success envelope around a JSON-ready value."""
    return raw_envelope(dumps(data), next_cursor)


async def json_body(request: Request) -> dict:
    """The JSON object in the request body, or a 400."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise ApiError(400, "error parsing request body: not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


def int_param(request: Request, name: str, default: int | None = None) -> int | None:
    """An integer query parameter, or a 400 naming it."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer") from None


def bool_param(request: Request, name: str) -> bool | None:
    """A boolean query parameter (true/false in any case, 1/0), or a 400."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ApiError(400, f"{name} must be true or false")


def limit_param(request: Request, default: int, maximum: int) -> int:
    """The `limit` parameter within [1, maximum], else a 400."""
    limit = int_param(request, "limit", default)
    if limit < 1 or limit > maximum:
        raise ApiError(400, f"limit must be between 1 and {maximum}")
    return limit


async def _send_plain(send, status: int, body: bytes, headers: list) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


class Gate:
    """ASGI wrapper: bearer auth on /v3 (the active keys) and /admin (the starting key), then
    latency and injected faults on /v3."""

    def __init__(self, app, sandbox) -> None:
        self.app = app
        self.sandbox = sandbox
        self.admin = b"Bearer " + sandbox.admin_key.encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        is_api = path.startswith("/v3/")
        if is_api or path.startswith("/admin/"):
            token = b""
            for name, value in scope["headers"]:
                if name == b"authorization":
                    token = value
                    break
            accepted = self.sandbox.bearer_tokens if is_api else (self.admin,)
            if not any(hmac.compare_digest(token, expected) for expected in accepted):
                self.sandbox.stats.request("unauthorized")
                await _send_plain(send, 401, error_body(401, "Unauthorized: invalid API key"),
                                  [(b"content-type", b"application/json")])
                return
        if is_api:
            faults = self.sandbox.faults
            if faults.latency_ms:
                await asyncio.sleep(faults.latency_ms / 1000)
            injected = faults.pick(scope["method"], path)
            if injected is not None:
                if injected.delay_s:
                    self.sandbox.stats.fault("slow")
                    await asyncio.sleep(injected.delay_s)
                if injected.status:
                    await self._fail(send, injected)
                    return
        await self.app(scope, receive, send)

    async def _fail(self, send, injected) -> None:
        status = injected.status
        self.sandbox.stats.fault(f"{status}{'-html' if injected.html else ''}")
        if injected.html:
            await _send_plain(send, status, HTML_502, [(b"content-type", b"text/html")])
            return
        headers = [(b"content-type", b"application/json")]
        if injected.retry_after is not None:
            retry = injected.retry_after
            text = str(int(retry)) if float(retry).is_integer() else str(retry)
            headers.append((b"retry-after", text.encode()))
        message = ERROR_MESSAGES.get(status, "Injected failure.")
        await _send_plain(send, status, error_body(status, message), headers)
