"""Fault injection: random faults at set rates, plus an exact script for the next N requests."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

RATE_KEYS = ("rate_429", "rate_5xx", "html_502_rate", "id_churn_rate")
INT_KEYS = ("latency_ms", "slow_ms", "send_delay_ms")
ALL_KEYS = RATE_KEYS + INT_KEYS + ("retry_after_s", "duplicate_webhooks", "script", "seed")

HTML_502 = (
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)


class FaultError(ValueError):
    """A fault setting the sandbox cannot use."""


@dataclass
class Injected:
    """What to do to one request instead of (or before) serving it."""

    status: int = 0
    retry_after: float | None = None
    html: bool = False
    delay_s: float = 0.0


@dataclass
class Faults:
    """Current fault settings; thread-safe."""

    latency_ms: int = 0
    rate_429: float = 0.0
    retry_after_s: float = 1.0
    rate_5xx: float = 0.0
    slow_ms: int = 0
    html_502_rate: float = 0.0
    duplicate_webhooks: bool = False
    id_churn_rate: float = 0.0
    send_delay_ms: int = 0
    script: list[dict] = field(default_factory=list)
    seed: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)
        self._churned: set[tuple[str, str]] = set()

    def update(self, settings: dict) -> None:
        """Change settings from an admin body or CLI flags; FaultError names a bad key."""
        if not isinstance(settings, dict):
            raise FaultError("faults must be a JSON object")
        unknown = sorted(set(settings) - set(ALL_KEYS) - {"reset"})
        if unknown:
            raise FaultError(f"unknown fault setting: {unknown[0]} (known: {', '.join(ALL_KEYS)})")
        clean: dict = {}
        for key in RATE_KEYS:
            if key in settings:
                value = settings[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) \
                        or not 0 <= value <= 1:
                    raise FaultError(f"{key} must be a number from 0 to 1")
                clean[key] = float(value)
        for key in INT_KEYS + ("retry_after_s",):
            if key in settings:
                value = settings[key]
                if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                    raise FaultError(f"{key} must be a number >= 0")
                clean[key] = value
        if "duplicate_webhooks" in settings:
            clean["duplicate_webhooks"] = bool(settings["duplicate_webhooks"])
        if "script" in settings:
            clean["script"] = _check_script(settings["script"])
        with self._lock:
            if settings.get("reset"):
                for key, value in vars(Faults(seed=self.seed)).items():
                    if not key.startswith("_") and key != "seed":
                        setattr(self, key, value)
            if "seed" in settings:
                self._rng = random.Random(settings["seed"])
                self.seed = settings["seed"]
            for key, value in clean.items():
                setattr(self, key, value)

    def as_dict(self) -> dict:
        """The current settings."""
        with self._lock:
            return {key: getattr(self, key) for key in ALL_KEYS}

    def pick(self, method: str, path: str) -> Injected | None:
        """The fault for this request, if any: script first, then the random rates."""
        if not (self.script or self.rate_429 or self.html_502_rate or self.rate_5xx
                or self.slow_ms):
            return None
        with self._lock:
            for i, step in enumerate(self.script):
                if step.get("method") and step["method"].upper() != method:
                    continue
                if step.get("path") and step["path"] not in path:
                    continue
                step["count"] -= 1
                if step["count"] <= 0:
                    del self.script[i]
                return Injected(status=step.get("status", 0), retry_after=step.get("retry_after"),
                                html=bool(step.get("html")), delay_s=step.get("delay_ms", 0) / 1000)
            roll = self._rng.random
            if self.rate_429 and roll() < self.rate_429:
                return Injected(status=429, retry_after=self.retry_after_s)
            if self.html_502_rate and roll() < self.html_502_rate:
                return Injected(status=502, html=True)
            if self.rate_5xx and roll() < self.rate_5xx:
                return Injected(status=self._rng.choice((500, 502, 503, 504)))
            if self.slow_ms:
                return Injected(delay_s=self.slow_ms / 1000)
        return None

    def churn(self, grant_id: str, message_id: str) -> bool:
        """True when this first GET of a message id should 404 (id churn)."""
        if not self.id_churn_rate:
            return False
        with self._lock:
            if not self.id_churn_rate or (grant_id, message_id) in self._churned:
                return False
            self._churned.add((grant_id, message_id))
            return self._rng.random() < self.id_churn_rate


def _check_script(script) -> list[dict]:
    if not isinstance(script, list):
        raise FaultError("script must be a list of steps")
    steps = []
    for step in script:
        if not isinstance(step, dict):
            raise FaultError("each script step must be an object")
        status = step.get("status", 0)
        if not isinstance(status, int) or not (status == 0 or 400 <= status <= 599):
            raise FaultError("script status must be an HTTP error status (400-599) or 0")
        count = step.get("count", 1)
        if not isinstance(count, int) or count < 1:
            raise FaultError("script count must be a positive integer")
        steps.append({"status": status, "retry_after": step.get("retry_after"),
                      "html": bool(step.get("html")), "delay_ms": float(step.get("delay_ms", 0)),
                      "method": step.get("method"), "path": step.get("path"), "count": count})
    return steps
