"""Backoff policy, Retry-After parsing, the token bucket, and SDK error mapping."""

from __future__ import annotations

import random
import threading
import time

import pytest
import requests
from nylas.models.errors import NylasApiError, NylasApiErrorResponse, NylasApiErrorResponseData, NylasSdkTimeoutError
from requests.structures import CaseInsensitiveDict

from triage_tui.nylas.errors import (
    AuthError,
    BadRequest,
    BadResponse,
    Conflict,
    NotFound,
    RateLimited,
    ServerError,
    Timeout,
    Unreachable,
    map_exception,
    parse_retry_after,
)
from triage_tui.nylas.retry import RateLimiter, RetryPolicy


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def api_error(status: int, type_: str = "x", headers: dict | None = None) -> NylasApiError:
    body = NylasApiErrorResponse("req-1", NylasApiErrorResponseData(type=type_, message="boom"))
    return NylasApiError(body, status, CaseInsensitiveDict(headers or {}))


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [(429, RateLimited, True), (500, ServerError, True), (503, ServerError, True), (404, NotFound, False),
     (401, AuthError, False), (403, AuthError, False), (400, BadRequest, False), (422, BadRequest, False)],
)
def test_api_errors_map_to_types(status, kind, retryable):
    error = map_exception(api_error(status, headers={"Retry-After": "3"}))
    assert isinstance(error, kind) and error.retryable is retryable
    assert (error.status, error.type, error.request_id, error.retry_after) == (status, "x", "req-1", 3.0)


def test_conflicts_retry_only_while_in_flight():
    assert not map_exception(api_error(409, "api.invalid_idempotent_request")).retryable
    in_flight = map_exception(api_error(409, "api.concurrent_idempotent_request"))
    assert isinstance(in_flight, Conflict) and in_flight.retryable


def test_transport_errors_map_to_types():
    assert isinstance(map_exception(requests.exceptions.ConnectionError("refused")), Unreachable)
    assert isinstance(map_exception(NylasSdkTimeoutError("http://x", 3)), Timeout)
    assert isinstance(map_exception(requests.exceptions.ReadTimeout("slow")), Timeout)
    page = requests.exceptions.JSONDecodeError("Expecting value", "<html>502 Bad Gateway</html>", 0)
    error = map_exception(page)
    assert isinstance(error, BadResponse) and error.status == 502 and error.retryable
    probed = map_exception(page, status=503, headers={"retry-after": "2"})
    assert probed.status == 503 and probed.retry_after == 2.0
    not_json_ok = map_exception(requests.exceptions.JSONDecodeError("x", "plain", 0), status=200)
    assert not not_json_ok.retryable
    odd = map_exception(KeyError("grant_id"))
    assert isinstance(odd, BadResponse) and not odd.retryable


def test_retry_after_parsing():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2099 07:28:00 GMT") > 1e9
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("nan") is None


def test_policy_honours_retry_after_and_caps_backoff():
    policy = RetryPolicy(max_retries=3, base_s=0.5, max_backoff_s=4.0, rng=random.Random(1))
    limited = RateLimited("x", status=429, retry_after=2.0)
    assert all(2.0 <= policy.delay(limited, n) <= 2.25 for n in (1, 2, 3))
    assert policy.delay(limited, 4) is None
    server = ServerError("x", status=500)
    delays = [policy.delay(server, n) for n in range(1, 4)]
    assert all(0 <= d <= min(4.0, 0.5 * 2 ** (n - 1)) for n, d in enumerate(delays))
    assert policy.delay(NotFound("x", status=404), 1) is None
    assert policy.delay(RateLimited("x", status=429, retry_after=3600), 1) is None
    unavailable = ServerError("x", status=503, retry_after=1.0)
    assert policy.delay(unavailable, 1) >= 1.0


def test_full_jitter_spreads_delays():
    policy = RetryPolicy(max_retries=10, base_s=1.0, max_backoff_s=8.0, rng=random.Random(3))
    delays = [policy.delay(ServerError("x", status=502), 5) for _ in range(200)]
    assert max(delays) <= 8.0 and min(delays) < 1.0 and len(set(delays)) > 150


def test_token_bucket_caps_request_rate():
    clock = FakeClock()
    limiter = RateLimiter(10.0, burst=10, clock=clock, sleep=clock.sleep)
    for _ in range(50):
        limiter.acquire()
    assert clock.now == pytest.approx(4.0, abs=1e-6)
    limiter_off = RateLimiter(0, clock=clock, sleep=clock.sleep)
    assert limiter_off.acquire() == 0.0


def test_token_bucket_is_shared_by_threads_in_real_time():
    limiter = RateLimiter(50.0, burst=5)
    start = time.monotonic()
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(10)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    assert elapsed >= (40 - 5) / 50.0 - 0.05
