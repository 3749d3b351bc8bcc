"""HTTP plumbing every tracker shares: one httpx client, pacing, Retry-After, and error mapping."""

from __future__ import annotations

import email.utils
import os
import threading
import time
from urllib.parse import urlsplit

import httpx

from triage_tui.ops.logs import register_secret
from triage_tui.trackers.base import (
    TrackerError,
    auth_error,
    misconfigured,
    outcome_unknown,
    rate_limited,
    rejected,
    unreachable,
)

USER_AGENT = "triage-tui (+https://github.com/triage-tui)"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
DEFAULT_RATE_WAIT_S = 60.0


def secret_from_env(variable: str, what: str) -> str:
    """A secret from the environment, or a config error naming the variable."""
    value = os.environ.get(variable, "")
    if not value:
        raise misconfigured(f"{what}: the environment variable {variable} is not set")
    register_secret(value)  # a token under a name of the config's choosing never reaches a log line
    return value


def split_url(url: str) -> tuple[str, str]:
    """(scheme://host[:port], /path?query) of an endpoint URL, so the path is sent exactly as configured."""
    parsed = urlsplit(url)
    path = parsed.path or "/"
    return f"{parsed.scheme}://{parsed.netloc}", path + (f"?{parsed.query}" if parsed.query else "")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def error_text(response: httpx.Response) -> str:
    """The tracker's own error message, short."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase
    if isinstance(body, dict):
        for key in ("message", "description", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key][:300]
        if body.get("errorMessages") or body.get("errors"):
            parts = list(body.get("errorMessages") or [])
            errors = body.get("errors")
            if isinstance(errors, dict):
                parts += [f"{k}: {v}" for k, v in errors.items()]
            elif isinstance(errors, list):
                parts += [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
            return "; ".join(parts)[:300]
    return str(body)[:300]


class HttpTracker:
    """Base of the HTTP trackers: paced writes, honoured rate limits, every failure a TrackerError."""

    name: str
    kind: str

    def __init__(self, name: str, config, *, base_url: str, headers: dict[str, str],
                 auth: httpx.Auth | tuple[str, str] | None = None, transport: httpx.BaseTransport | None = None) -> None:
        self.name = name
        self.config = config
        self.min_interval_s = config.min_interval_s
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=config.timeout_s, auth=auth, transport=transport,
            trust_env=False, follow_redirects=False, headers={"User-Agent": USER_AGENT, **headers})
        self._lock = threading.Lock()
        self._next_write_at = 0.0
        self.blocked_until = 0.0

    def close(self) -> None:
        """Release the HTTP client."""
        self._client.close()

    def _pace(self) -> None:
        """Space writes `min_interval_s` apart across this process's threads."""
        if not self.min_interval_s:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_write_at)
            self._next_write_at = start + self.min_interval_s
        if start > now:
            time.sleep(start - now)

    def request(self, method: str, path: str, *, write: bool | None = None, **kwargs) -> httpx.Response:
        """One call; a 2xx response, or a TrackerError saying whether the write may have landed."""
        is_write = method.upper() in WRITE_METHODS if write is None else write
        if is_write:
            self._pace()
        try:
            response = self._client.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise unreachable(f"{self.kind} tracker {self.name!r} unreachable: {type(exc).__name__}: {exc}") from None
        except httpx.TimeoutException as exc:
            raise self._unknown(is_write, f"no answer within {self.config.timeout_s:g}s ({type(exc).__name__})")
        except httpx.TransportError as exc:
            raise self._unknown(is_write, f"connection lost: {type(exc).__name__}: {exc}")
        self.check(response, is_write)
        return response

    def same_host(self, url: str) -> str:
        """A pagination URL the tracker gave us, refused if it points at another host (our token goes with it)."""
        host = urlsplit(url).netloc
        if host and host != urlsplit(str(self._client.base_url)).netloc:
            raise rejected(f"{self.kind} tracker {self.name!r}: a next page points at another host: {url}")
        return url

    def _unknown(self, is_write: bool, message: str) -> TrackerError:
        text = f"{self.kind} tracker {self.name!r}: {message}"
        return outcome_unknown(text) if is_write else unreachable(text)

    def rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait when this response says we are rate limited, else None (per tracker)."""
        if response.status_code == 429:
            return parse_retry_after(response.headers.get("retry-after")) or DEFAULT_RATE_WAIT_S
        return None

    def check(self, response: httpx.Response, is_write: bool) -> None:
        """Map a non-2xx response to a TrackerError."""
        status = response.status_code
        if status < 300:
            return
        wait = self.rate_limit_wait(response)
        where = f"{self.kind} tracker {self.name!r}"
        if wait is not None:
            self.blocked_until = max(self.blocked_until, time.time() + wait)
            raise rate_limited(f"{where}: rate limited ({status}); retry in {wait:.0f}s", wait, status)
        message = f"{where}: {status} {error_text(response)}"
        if status in (401, 403):
            raise auth_error(f"{where} refused our credentials ({status}): {error_text(response)}", status)
        if status >= 500:
            retry = parse_retry_after(response.headers.get("retry-after"))
            if is_write:
                raise outcome_unknown(message, status, retry)
            raise TrackerError(message, kind="unavailable", retryable=True, retry_after=retry, status=status)
        if status == 409:
            raise TrackerError(message, kind="conflict", retryable=True, status=status)
        raise rejected(message, status)

    @staticmethod
    def json(response: httpx.Response) -> dict:
        """The JSON object of a 2xx response (an unreadable one counts as outcome unknown)."""
        try:
            body = response.json()
        except ValueError:
            raise outcome_unknown(f"unreadable response ({response.status_code}): {response.text[:120]!r}") from None
        if not isinstance(body, dict):
            raise outcome_unknown(f"unexpected response ({response.status_code}): {str(body)[:120]}")
        return body
