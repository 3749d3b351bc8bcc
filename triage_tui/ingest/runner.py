"""Running the worker: once (`worker --once`), or as a background thread for the console and demo."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict

from triage_tui.config import Config, api_key
from triage_tui.ingest.worker import CycleReport, Worker
from triage_tui.nylas.errors import AuthError, GatewayError, Timeout, Unreachable
from triage_tui.store.db import StoreError, connection, open_database
from triage_tui.store.models import database
from triage_tui.store.transient import OUTAGE, describe, is_database_error, is_disconnect, reset_connection

log = logging.getLogger(__name__)
MAX_ONCE_CYCLES = 10_000
DRAIN_INTERVAL_S = 1.0
MAX_DB_BACKOFF_S = 2.0  # a loop whose database is away tries again at least this often


class SyncError(Exception):
    """A sync that could not run; the message is one line for the user."""


@dataclass(frozen=True)
class SyncProgress:
    """How the background sync is doing, for the console's status bar."""

    ingested: int = 0
    seen: int = 0
    total: int | None = None
    running: bool = False
    last_sync_at: datetime | None = None
    last_error: str = ""
    classifier: str = ""


class SyncReport(BaseModel):
    """What `sync_once` did."""

    model_config = ConfigDict(frozen=True)

    cycles: int
    seen: int
    stored: int
    duplicates: int
    flagged: int
    suggested: int
    linked: int
    failed: int
    quarantined: int
    gone: int
    events: int
    seconds: float
    errors: list[str] = []
    upgraded: int = 0  # provisional suggestions answered again by the whole chain (embed)
    upgrade_seconds: float = 0.0  # of `seconds`, the time the upgrades took after ingest

    def summary(self) -> str:
        """One line for the terminal."""
        upgraded = f" ({self.upgraded} upgraded by the whole chain)" if self.upgraded else ""
        return (f"synced in {self.seconds:.1f}s: {self.stored} new, {self.duplicates} duplicates absorbed, "
                f"{self.flagged} flagged automated, {self.suggested} suggested{upgraded}, {self.linked} linked "
                f"to tickets, {self.quarantined} quarantined, {self.events} webhook events drained")


def build_gateway(config: Config):
    """The Nylas gateway for this config, or SyncError when no key is set."""
    from triage_tui.nylas.gateway import Gateway

    key = api_key()
    if not key:
        raise SyncError("NYLAS_API_KEY is not set")
    return Gateway(config.nylas, key)


def build_default_classifier(config: Config):
    """The configured classifier chain, trained on the store's approved decisions."""
    from triage_tui.classify.chain import build_classifier
    from triage_tui.store.labels import approved_examples

    return build_classifier(config.classifier, training_examples=approved_examples())


def classifier_label(classifier) -> str:
    """A few words for the console header: the first member's name, and why it fell back."""
    members = getattr(classifier, "classifiers", [classifier])
    label = members[0].name if members else classifier.name
    if getattr(classifier, "warnings", None):
        label += " (embed unavailable: see `triage-tui status`)"
    return label


def ensure_database(config: Config) -> None:
    """Open the configured database unless one is already bound."""
    if database.obj is None:
        open_database(config.database)


def sync_once(config: Config, *, gateway=None, classifier=None) -> SyncReport:
    """Poll every inbox to the end, drain every webhook event, classify; SyncError on failure."""
    if not config.inboxes:
        raise SyncError("no [[inboxes]] configured: add one with its grant_id and email")
    started = time.monotonic()
    try:
        ensure_database(config)
        with connection():
            worker = Worker(config, gateway or build_gateway(config), classifier or build_default_classifier(config))
            total = CycleReport()
            cycles = 0
            while True:
                cycle = worker.cycle()
                cycles += 1
                total.report.add(cycle.report)
                total.events += cycle.events
                total.errors.extend(cycle.errors)
                if cycle.complete or cycles >= MAX_ONCE_CYCLES:
                    break
            upgrading, upgraded = time.monotonic() - cycle.upgrade_seconds, cycle.upgraded
            while cycle.upgrades_left and not cycle.errors:  # `--once` ends with every suggestion final
                cycle = CycleReport()
                worker.upgrade(cycle)
                upgraded += cycle.upgraded
            upgrade_seconds = time.monotonic() - upgrading
    except SyncError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line for the user
        raise SyncError(describe_error(exc, config)) from exc
    r = total.report
    return SyncReport(
        cycles=cycles, seen=r.seen, stored=r.stored, duplicates=r.duplicates, flagged=r.flagged,
        suggested=r.suggested, linked=r.linked, failed=r.failed, quarantined=r.quarantined, gone=r.gone,
        events=total.events, seconds=time.monotonic() - started, errors=(r.errors + total.errors)[:50],
        upgraded=upgraded, upgrade_seconds=upgrade_seconds,
    )


def describe_error(exc: BaseException, config: Config) -> str:
    """One line saying what went wrong and where."""
    if isinstance(exc, AuthError):
        return f"the API at {config.nylas.api_uri} refused the API key or grant: {exc}"
    if isinstance(exc, (Unreachable, Timeout)):
        return f"cannot reach the API at {config.nylas.api_uri}: {exc}"
    if isinstance(exc, GatewayError):
        return f"the API at {config.nylas.api_uri} failed: {exc}"
    if isinstance(exc, StoreError):
        return str(exc)
    if is_database_error(exc):
        return describe(exc)
    return f"{type(exc).__name__}: {exc}"


def poll_delay(cycle: CycleReport, poll_interval_s: float) -> float:
    """Seconds until the next poll: at once when a sweep is unfinished; soon when another worker
    holds a grant's poll (to take it over as soon as its lease ends or its process is gone)."""
    if not cycle.complete:
        return 0.0
    waits = [p.retry_in_s for p in cycle.polls if p.busy and p.retry_in_s is not None]
    return min([poll_interval_s, *waits])


class BackgroundWorker:
    """The worker as a daemon thread: polls every poll_interval_s, drains events every second."""

    def __init__(self, config: Config, *, gateway=None, classifier=None,
                 extra_tasks: Sequence[Callable[[], None]] = ()) -> None:
        self.config = config
        self._gateway = gateway
        self._classifier = classifier
        self._extra_tasks = list(extra_tasks)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._progress = SyncProgress()
        self._poll_now = True
        self._more_upgrades = False

    def start(self) -> None:
        """Start the daemon thread (once)."""
        if self._thread is not None and self._thread.is_alive():
            return
        ensure_database(self.config)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="triage-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to stop and wait up to `timeout` seconds."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def sync_now(self) -> None:
        """Wake the loop for an immediate poll."""
        self._poll_now = True
        self._wake.set()

    def progress(self) -> SyncProgress:
        """A snapshot of the sync progress."""
        with self._lock:
            return self._progress

    def _update(self, **changes) -> None:
        with self._lock:
            self._progress = replace(self._progress, **changes)

    def _run(self) -> None:
        worker: Worker | None = None
        next_poll = 0.0
        failures = 0
        while not self._stopping.is_set():
            try:
                with connection():
                    if worker is None:
                        gateway = self._gateway or build_gateway(self.config)
                        classifier = self._classifier or build_default_classifier(self.config)
                        self._update(classifier=classifier_label(classifier))
                        worker = Worker(self.config, gateway, classifier, extra_tasks=self._extra_tasks)
                        worker.poller.respect_schedule = True  # take turns with other workers' polls
                    poll = self._poll_now or time.monotonic() >= next_poll
                    self._poll_now = False
                    if poll:
                        self._update(running=True)
                    cycle = worker.cycle(poll=poll)
                    if poll:
                        next_poll = time.monotonic() + poll_delay(cycle, self.config.worker.poll_interval_s)
                    self._record(cycle, poll)
                    self._more_upgrades = cycle.upgrades_left
                failures = 0
                OUTAGE.succeeded()
            except Exception as exc:  # noqa: BLE001 - the loop never dies; the error is shown
                line = describe_error(exc, self.config)
                log.warning("worker cycle failed: %s", line)
                self._update(running=False, last_error=line)
                failures += 1
                if is_database_error(exc):
                    # the database is away (a restart, a full disk): come back soon, on a fresh connection
                    OUTAGE.failed(exc)
                    if is_disconnect(exc):
                        reset_connection()
                    next_poll = time.monotonic() + min(MAX_DB_BACKOFF_S, 0.25 * 2 ** failures)
                else:
                    next_poll = time.monotonic() + self.config.worker.poll_interval_s
            more = worker is not None and self._more_upgrades
            self._wake.wait(DRAIN_INTERVAL_S if next_poll > time.monotonic() and not more else 0)
            self._wake.clear()
        self._update(running=False)

    def _record(self, cycle: CycleReport, polled: bool) -> None:
        """Fold one cycle into the progress the console and the worker command show."""
        r = cycle.report
        with self._lock:
            p = self._progress
            self._progress = replace(
                p, ingested=p.ingested + r.stored, seen=p.seen + r.seen,
                running=not cycle.complete if polled else p.running,
                last_sync_at=datetime.now(timezone.utc) if polled and cycle.complete else p.last_sync_at,
                last_error="; ".join(cycle.errors)[:300] if cycle.errors else ("" if polled else p.last_error),
            )
