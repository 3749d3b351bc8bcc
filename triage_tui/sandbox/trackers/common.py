"""What every fake tracker shares: latency, documented rate limits, scripted faults, and the admin routes.

Faults (POST /_fake/faults, or `faults=` when starting): `latency_ms` on every API request, and a
`script` of steps, each `{"fault": "status"|"slow"|"lost", "status": 401|429|5xx, "retry_after": s,
"delay_ms": n, "method": "POST", "path": "/issues", "count": 1}`. "slow" carries the request out at once
and answers `delay_ms` later; "lost" carries it out and then drops the connection before the response
is complete: either way the write landed and a client that gave up cannot know.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FAULT_KINDS = ("status", "slow", "lost")


class LostResponse(Exception):
    """Raised after a response has started, so the server drops the connection mid-body."""


class _QuietLost(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], LostResponse))


logging.getLogger("uvicorn.error").addFilter(_QuietLost())


@dataclass
class RateLimit:
    """A documented limit: at most `limit` matching requests per `window_s` (sliding window)."""

    name: str
    limit: int
    window_s: float
    methods: tuple[str, ...] = ("POST", "PUT", "PATCH", "DELETE")
    path_contains: str = ""
    hits: deque = field(default_factory=deque)

    def matches(self, method: str, path: str) -> bool:
        """True when this limit counts the request."""
        return method in self.methods and self.path_contains in path

    def take(self, now: float) -> float | None:
        """Count one request; seconds until a slot frees when over the limit (then nothing is counted)."""
        while self.hits and self.hits[0] <= now - self.window_s:
            self.hits.popleft()
        if len(self.hits) >= self.limit:
            return max(0.001, self.hits[0] + self.window_s - now)
        self.hits.append(now)
        return None

    def remaining(self, now: float) -> int:
        """Requests left in the current window."""
        return max(0, self.limit - sum(1 for t in self.hits if t > now - self.window_s))


@dataclass
class Step:
    """One scripted fault."""

    fault: str
    status: int = 0
    retry_after: float | None = None
    delay_s: float = 0.0
    method: str = ""
    path: str = ""
    count: int = 1


class Control:
    """Latency, rate limits and the fault script of one fake; safe to change from any thread."""

    def __init__(self, rate_limits: list[RateLimit], *, latency_ms: float = 0, time_scale: float = 1.0,
                 enforce_limits: bool = True) -> None:
        self._lock = threading.Lock()
        self.latency_ms = latency_ms
        self.enforce_limits = enforce_limits
        self.rate_limits = rate_limits
        if time_scale != 1.0:
            for limit in rate_limits:
                limit.window_s /= time_scale
        self.script: list[Step] = []
        self.faults_served: dict[str, int] = {}

    def update(self, settings: dict) -> dict:
        """Apply {"latency_ms", "script", "enforce_limits", "reset"}; ValueError on a bad setting."""
        unknown = set(settings) - {"latency_ms", "script", "enforce_limits", "reset"}
        if unknown:
            raise ValueError(f"unknown fault setting: {sorted(unknown)[0]}")
        steps = [_step(s) for s in settings.get("script", [])]
        with self._lock:
            if settings.get("reset"):
                self.script, self.latency_ms = [], 0
            if "latency_ms" in settings:
                self.latency_ms = float(settings["latency_ms"])
            if "enforce_limits" in settings:
                self.enforce_limits = bool(settings["enforce_limits"])
            self.script.extend(steps)
        return self.describe()

    def describe(self) -> dict:
        """The current settings and how many faults were served."""
        with self._lock:
            return {"latency_ms": self.latency_ms, "enforce_limits": self.enforce_limits,
                    "script": [vars(s) for s in self.script], "faults_served": dict(self.faults_served)}

    def pick(self, method: str, path: str) -> Step | None:
        """The first scripted step matching this request (used up by `count`)."""
        with self._lock:
            for i, step in enumerate(self.script):
                if (step.method and step.method != method) or (step.path and step.path not in path):
                    continue
                step.count -= 1
                if step.count <= 0:
                    del self.script[i]
                key = step.fault if step.fault != "status" else str(step.status)
                self.faults_served[key] = self.faults_served.get(key, 0) + 1
                return step
        return None

    def throttle(self, method: str, path: str) -> tuple[RateLimit, float] | None:
        """(limit, retry_after) when a documented limit refuses this request; it is then not counted."""
        if not self.enforce_limits:
            return None
        now = time.monotonic()
        with self._lock:
            matching = [limit for limit in self.rate_limits if limit.matches(method, path)]
            for limit in matching:
                wait = limit.take(now)
                if wait is not None:
                    for other in matching:  # undo the slots already taken for this refused request
                        if other is limit:
                            break
                        other.hits.pop()
                    self.faults_served[f"rate:{limit.name}"] = self.faults_served.get(f"rate:{limit.name}", 0) + 1
                    return limit, wait
        return None


def _step(raw) -> Step:
    if not isinstance(raw, dict):
        raise ValueError("each script step must be an object")
    fault = raw.get("fault", "status")
    if fault not in FAULT_KINDS:
        raise ValueError(f"fault must be one of {', '.join(FAULT_KINDS)}")
    status = int(raw.get("status", 0))
    if fault == "status" and not 400 <= status <= 599:
        raise ValueError("a status fault needs an HTTP error status (400-599)")
    return Step(fault=fault, status=status, retry_after=raw.get("retry_after"),
                delay_s=float(raw.get("delay_ms", 0)) / 1000, method=str(raw.get("method", "")).upper(),
                path=str(raw.get("path", "")), count=max(1, int(raw.get("count", 1))))


class FakeGate:
    """ASGI wrapper: admin routes pass; API requests get auth, latency, faults and rate limits."""

    def __init__(self, app, fake) -> None:
        self.app = app
        self.fake = fake

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_fake/") or scope["path"] == "/health":
            await self.app(scope, receive, send)
            return
        fake, control = self.fake, self.fake.control
        self.fake.count_request(scope["method"], scope["path"])
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = fake.authorize(headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if control.latency_ms:
            await asyncio.sleep(control.latency_ms / 1000)
        step = control.pick(scope["method"], scope["path"])
        if step is not None and step.fault == "status":
            await fake.error(step.status, "injected failure", retry_after=step.retry_after)(scope, receive, send)
            return
        limited = control.throttle(scope["method"], scope["path"])
        if limited is not None:
            await fake.rate_limited(*limited)(scope, receive, send)
            return
        if step is not None and step.fault == "lost":
            await self._lose(scope, receive, send)
            return
        if step is not None and step.delay_s:
            await self.app(scope, receive, self._slow(send, step.delay_s))
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _slow(send, delay_s: float):
        """Carry the request out at once, answer `delay_s` later (a client may give up before then)."""
        async def delayed(message) -> None:
            if message["type"] == "http.response.start":
                await asyncio.sleep(delay_s)
            await send(message)
        return delayed

    async def _lose(self, scope, receive, send) -> None:
        """Carry the request out, then drop the connection in the middle of the response."""
        started: dict = {}

        async def swallow(message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)

        await self.app(scope, receive, swallow)
        await send({"type": "http.response.start", "status": started.get("status", 200),
                    "headers": [(b"content-length", b"4096"), (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"', "more_body": True})
        raise LostResponse("response dropped after the write landed")


def admin_routes(fake) -> list[Route]:
    """GET /_fake/state, POST /_fake/faults, GET /health."""

    async def state(request: Request) -> Response:
        return JSONResponse(fake.snapshot())

    async def faults(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
            return JSONResponse(fake.control.update(body))
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "kind": fake.kind})

    async def clear(request: Request) -> Response:
        fake.clear()
        return JSONResponse({"cleared": True})

    return [Route("/_fake/state", state, methods=["GET"]), Route("/_fake/faults", faults, methods=["GET", "POST"]),
            Route("/_fake/clear", clear, methods=["POST"]), Route("/health", health, methods=["GET"])]


def iso(epoch: float | None = None) -> str:
    """ISO 8601 UTC with a Z, as the trackers write times."""
    moment = time.time() if epoch is None else epoch
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


class FakeTracker:
    """Base of the fakes: one lock over the state, request counts, the ASGI app behind the gate."""

    kind = "fake"

    def __init__(self, *, token: str, rate_limits: list[RateLimit], latency_ms: float = 0,
                 time_scale: float = 1.0, enforce_limits: bool = True) -> None:
        self.token = token
        self.lock = threading.Lock()
        self.control = Control(rate_limits, latency_ms=latency_ms, time_scale=time_scale,
                               enforce_limits=enforce_limits)
        self.requests: dict[str, int] = {}
        self.base_url = "http://127.0.0.1"

    def count_request(self, method: str, path: str) -> None:
        """Count one API request by method."""
        with self.lock:
            self.requests[method] = self.requests.get(method, 0) + 1

    def authorize(self, headers: dict[str, str]) -> Response | None:
        """None when the credentials are good, else the refusal to send."""
        raise NotImplementedError

    def error(self, status: int, message: str, *, retry_after: float | None = None) -> Response:
        """The tracker's own error envelope."""
        headers = {"retry-after": str(int(retry_after))} if retry_after is not None else {}
        return JSONResponse({"message": message}, status_code=status, headers=headers)

    def rate_limited(self, limit: RateLimit, wait: float) -> Response:
        """The tracker's documented rate-limit answer."""
        return self.error(429, f"rate limit {limit.name} exceeded", retry_after=max(1, round(wait)))

    def routes(self) -> list[Route]:
        """The tracker's API routes."""
        raise NotImplementedError

    def clear(self) -> None:
        """Forget everything written (tests reuse one fake); limits and faults are reset too."""
        with self.lock:
            self.requests.clear()
            self._clear()
        self.control.update({"reset": True})
        for limit in self.control.rate_limits:
            limit.hits.clear()

    def _clear(self) -> None:
        raise NotImplementedError

    def snapshot(self) -> dict:
        """Everything written so far, for tests: {"items": [...], "comments": [...], "texts": [...]}."""
        raise NotImplementedError

    def build_app(self):
        """The ASGI app: admin routes plus the API behind the gate."""
        from starlette.applications import Starlette

        async def server_error(request: Request, exc: Exception) -> Response:
            return self.error(500, f"fake error: {type(exc).__name__}: {exc}")

        app = Starlette(routes=admin_routes(self) + self.routes(), exception_handlers={Exception: server_error})
        return FakeGate(app, self)


async def json_object(request: Request) -> dict | None:
    """The JSON object in the body, or None when the body is not one."""
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
