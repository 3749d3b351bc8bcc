"""Health: is the database reachable at the current schema, does Nylas answer, and `status` exit codes.

`triage-tui status` exits 0 when healthy, 1 when degraded (running, but a person should look),
2 when down (the database cannot be read) or the config is unusable.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from triage_tui.config import Config, api_key
from triage_tui.store.db import SCHEMA_VERSION, StoreError, connection, pending_versions
from triage_tui.store.models import database

HEALTHY, DEGRADED, DOWN = 0, 1, 2
STATUS_NAMES = {HEALTHY: "healthy", DEGRADED: "degraded", DOWN: "down"}
NEEDS_A_HUMAN = ("failed", "needs_reconciliation")


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether it passed, and a one-line detail."""

    name: str
    ok: bool
    detail: str = ""


def database_check() -> Check:
    """The bound store answers a query and its schema is the one this release writes."""
    db = database.obj
    if db is None:
        return Check("database", False, "not opened")
    try:
        with connection():
            behind = pending_versions(db)
    except StoreError as exc:
        return Check("database", False, str(exc))
    except Exception as exc:  # noqa: BLE001 - any driver error means "not reachable"
        return Check("database", False, f"unreachable: {type(exc).__name__}: {_first_line(exc)}")
    if behind:
        return Check("database", False, f"schema behind: needs migrations to version {behind[-1]}")
    return Check("database", True, f"schema version {SCHEMA_VERSION}")


def nylas_check(config: Config, timeout_s: float) -> Check:
    """The Nylas API (or the sandbox) answers within `timeout_s` and does not refuse our key."""
    base = config.nylas.api_uri
    grant = config.grant_ids[0] if config.grant_ids else ""
    url = f"{base}/v3/grants/{quote(grant, safe='')}" if grant else f"{base}/v3/grants?limit=1"
    key = api_key()
    started = time.monotonic()
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {key}"} if key else {}, timeout=timeout_s)
    except httpx.TimeoutException:
        return Check("nylas", False, f"no answer from {base} within {timeout_s:g}s")
    except httpx.HTTPError as exc:
        return Check("nylas", False, f"cannot reach {base}: {type(exc).__name__}")
    took = f"in {(time.monotonic() - started) * 1000:.0f} ms"
    if response.status_code >= 500:
        return Check("nylas", False, f"{base} answered {response.status_code} {took}")
    if key and response.status_code in (401, 403):
        return Check("nylas", False, f"{base} refused the API key ({response.status_code})")
    return Check("nylas", True, f"{base} answered {response.status_code} {took}")


@dataclass
class Readiness:
    """/readyz: the database check at every call, the Nylas check at most once per `nylas_ttl_s`."""

    config: Config
    nylas_ttl_s: float = 10.0
    _nylas: tuple[float, Check] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def checks(self) -> list[Check]:
        """Every check, freshest first."""
        return [database_check(), self._nylas_now()]

    def _nylas_now(self) -> Check:
        with self._lock:
            now = time.monotonic()
            if self._nylas is None or now - self._nylas[0] >= self.nylas_ttl_s:
                self._nylas = (now, nylas_check(self.config, self.config.ops.nylas_timeout_s))
            return self._nylas[1]


@dataclass(frozen=True)
class Health:
    """What `status` concludes: healthy, degraded or down, the exit code, and every problem found."""

    exit_code: int
    problems: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """healthy, degraded or down."""
        return STATUS_NAMES[self.exit_code]

    def as_dict(self) -> dict:
        """The JSON form `status --json` prints under "health"."""
        return {"status": self.status, "exit_code": self.exit_code, "problems": self.problems}


def store_health(config: Config, state, sending: dict, now: float | None = None) -> Health:
    """Degraded when an inbox has not synced lately or its last sync failed, the stop switch has been on
    past its alert threshold, or sends wait for a human (failed, needs_reconciliation)."""
    now = time.time() if now is None else now
    problems: list[str] = []
    synced = {s.grant_id: s for s in state.last_sync}
    for grant in config.grant_ids:
        sync = synced.get(grant)
        if sync is None or sync.last_sync_at is None:
            problems.append(f"inbox {grant} never completed a sync")
        elif now - sync.last_sync_at.timestamp() > config.ops.stale_sync_after_s:
            problems.append(f"inbox {grant} last synced {now - sync.last_sync_at.timestamp():.0f}s ago")
        if sync is not None and sync.last_error:
            problems.append(f"inbox {grant} last sync failed: {_first_line(sync.last_error)}")
    if sending.get("stop_switch_alert"):
        problems.append(f"stop switch: {sending['stop_switch_alert']}")
    stuck = sum(state.outbox_by_state.get(s, 0) for s in NEEDS_A_HUMAN)
    if stuck:
        problems.append(f"{stuck} send(s) need a human (failed or needs_reconciliation)")
    return Health(DEGRADED if problems else HEALTHY, problems)


def down(reason: str) -> Health:
    """The store cannot be read."""
    return Health(DOWN, [reason])


def _first_line(value: object) -> str:
    text = str(value).strip()
    return (text.splitlines() or [""])[0][:200]
