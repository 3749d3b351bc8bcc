"""The gateway's own typed errors; no `requests` or SDK exception escapes the gateway."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone

import requests
from nylas.models.errors import NylasApiError, NylasOAuthError, NylasSdkTimeoutError


class GatewayError(Exception):
    """Base of every error the gateway raises."""

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str = "",
        request_id: str = "",
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.request_id = request_id
        self.retry_after = retry_after
        self.retryable = self.default_retryable if retryable is None else retryable

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.type:
            parts.append(f"type={self.type}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)


class RateLimited(GatewayError):
    """429: too many requests; `retry_after` holds the server's hint when it gave one."""

    default_retryable = True


class ServerError(GatewayError):
    """5xx from the API."""

    default_retryable = True


class NotFound(GatewayError):
    """404: unknown grant, message or thread."""


class AuthError(GatewayError):
    """401/403: a wrong key, missing scope or a plan limit."""


class BadRequest(GatewayError):
    """400 and other client errors the caller must fix."""


class Conflict(GatewayError):
    """409: an idempotency key reused with another payload (or still in flight)."""


class Unreachable(GatewayError):
    """The API could not be reached: refused connection, DNS, TLS, reset."""

    default_retryable = True


class Timeout(GatewayError):
    """The API did not answer within the configured timeout."""

    default_retryable = True


class BadResponse(GatewayError):
    """The API answered with something that is not the documented JSON (e.g. an HTML 502)."""

    default_retryable = True


CONCURRENT_IDEMPOTENT = "api.concurrent_idempotent_request"
SDK_DECODE = "sdk_decode"
_STATUS_IN_PAGE = re.compile(r"\b([1-5]\d\d)\b")


def parse_retry_after(value: object, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None when unusable."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def from_api_error(exc: NylasApiError | NylasOAuthError) -> GatewayError:
    """Map an SDK API error (status, envelope, headers) to a typed gateway error."""
    status = getattr(exc, "status_code", None)
    headers = getattr(exc, "headers", None) or {}
    retry_after = parse_retry_after(_header(headers, "retry-after"))
    kwargs = dict(
        status=status,
        type=str(getattr(exc, "type", "") or ""),
        request_id=str(getattr(exc, "request_id", "") or ""),
        retry_after=retry_after,
    )
    message = _short(str(exc)) or "API error"
    if status == 429:
        return RateLimited(message, **kwargs)
    if status == 404:
        return NotFound(message, **kwargs)
    if status in (401, 403):
        return AuthError(message, **kwargs)
    if status == 409:
        in_flight = kwargs["type"] == CONCURRENT_IDEMPOTENT
        return Conflict(message, retryable=in_flight, **kwargs)
    if status is not None and status >= 500:
        return ServerError(message, **kwargs)
    if status == 408:
        return Timeout(message, **kwargs)
    return BadRequest(message, **kwargs)


def map_exception(exc: BaseException, *, status: int | None = None,
                  headers: dict | None = None) -> GatewayError:
    """The gateway error for an exception raised inside an SDK call.

    `status`/`headers` are what the SDK probe saw for the response, used when the SDK
    itself could not read them (a non-JSON error page).
    """
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, (NylasApiError, NylasOAuthError)):
        return from_api_error(exc)
    if isinstance(exc, NylasSdkTimeoutError):
        return Timeout(f"no answer within {getattr(exc, 'timeout', '?')} s")
    if isinstance(exc, requests.exceptions.JSONDecodeError):
        return _non_json(exc, status, headers or {})
    if isinstance(exc, requests.exceptions.Timeout):
        return Timeout(f"timed out: {_short(str(exc))}")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return Unreachable(f"cannot reach the API: {_short(str(exc))}")
    if isinstance(exc, requests.exceptions.RequestException):
        return Unreachable(f"request failed: {_short(str(exc))}", retryable=False)
    return BadResponse(
        f"unexpected response shape: {type(exc).__name__}: {_short(str(exc))}",
        status=status,
        type=SDK_DECODE,
        retryable=False,
    )


def is_sdk_decode_failure(error: GatewayError) -> bool:
    """True when the API answered 2xx but the SDK's model could not decode the JSON."""
    return error.type == SDK_DECODE and error.status is not None and 200 <= error.status < 300


def _non_json(exc: BaseException, status: int | None, headers: dict) -> GatewayError:
    """A non-JSON page (e.g. a proxy's HTML): RateLimited on 429, BadResponse otherwise."""
    page = str(getattr(exc, "doc", "") or "")
    if status is None:
        match = _STATUS_IN_PAGE.search(page[:512])
        status = int(match.group(1)) if match else None
    kind = RateLimited if status == 429 else BadResponse
    return kind(
        f"non-JSON response: {_short(page) or 'empty body'}",
        status=status,
        retry_after=parse_retry_after(_header(headers, "retry-after")),
        retryable=status is None or status >= 500 or status == 429,
    )


def _header(headers: object, name: str) -> object:
    try:
        items = list(headers.items())  # type: ignore[union-attr]
    except AttributeError:
        return None
    return next((value for key, value in items if str(key).lower() == name), None)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
