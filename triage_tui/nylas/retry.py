"""Backoff with full jitter that honours Retry-After, and a process-wide request-rate cap."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from triage_tui.nylas.errors import GatewayError, RateLimited

Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass
class RetryPolicy:
    """How many times and how long to wait between attempts of one request."""

    max_retries: int = 6
    base_s: float = 0.5
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 120.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, error: GatewayError, retry_number: int) -> float | None:
        """Seconds to wait before retry `retry_number` (1-based), or None to give up now."""
        if not error.retryable or retry_number > self.max_retries:
            return None
        honours_hint = isinstance(error, RateLimited) or error.status in (429, 503)
        if honours_hint and error.retry_after is not None:
            if error.retry_after > self.max_retry_after_s:
                return None
            return error.retry_after + self.rng.uniform(0.0, min(0.25, self.base_s))
        ceiling = min(self.max_backoff_s, self.base_s * (2 ** (retry_number - 1)))
        return self.rng.uniform(0.0, ceiling)


class RateLimiter:
    """A token bucket: at most `rate` requests per second on average, bursts up to `burst`."""

    def __init__(self, rate: float, *, burst: float | None = None,
                 clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, self.rate))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._updated = clock()
        self.waited_s = 0.0

    def acquire(self) -> float:
        """Take one token, sleeping outside the lock until it is due; returns the wait."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
            self._updated = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
            self.waited_s += wait
        if wait > 0:
            self._sleep(wait)
        return wait


_shared: dict[tuple[str, float], RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(scope: str, rate: float) -> RateLimiter:
    """The one limiter of this process for a scope (e.g. an api_uri), shared by every thread."""
    key = (scope, float(rate))
    with _shared_lock:
        limiter = _shared.get(key)
        if limiter is None:
            limiter = _shared[key] = RateLimiter(rate)
        return limiter
