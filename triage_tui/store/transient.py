"""The one path for database errors: classify, retry what is transient, reconnect, or say it in one line.

Every command, worker loop, the dispatcher, the webhook receiver and the console run their store
work through `retrying` (a whole transaction at a time, so a retry repeats the whole unit) or, for
the record of a side effect that already happened, through `until_committed`. Whatever cannot be
retried becomes one line from `describe` that names the database (password redacted) and the cause.

A dead PostgreSQL connection (the server restarted, an administrator ended it) is closed and
opened again between attempts. peewee's `ReconnectMixin` is not used: it retries a single statement
outside a transaction only, and reconnects at once, while the server may still be starting up;
rerunning the whole unit after a backoff covers both.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
import time
from typing import Callable, TypeVar
from urllib.parse import urlparse

from peewee import Database, DatabaseError, InterfaceError, SqliteDatabase
from tenacity import Retrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_random_exponential

from triage_tui.store.models import database

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_RETRY_FOR_S = 10.0
MIN_ATTEMPTS = 4  # a busy SQLite file waits busy_timeout per attempt: still try this often

# SQLSTATEs that a later attempt can get past (PostgreSQL appendix A).
_PG_TRANSIENT = {
    "40P01": "a deadlock",
    "40001": "a serialization failure",
    "55P03": "a lock wait timeout",
    "57P01": "an administrator shutdown",
    "57P02": "a server crash",
    "57P03": "the server starting up",
    "53300": "too many connections",
}
_DISCONNECT_WORDS = ("server closed the connection", "connection already closed", "terminating connection",
                     "could not connect", "connection refused", "the database system is",
                     "no connection to the server", "ssl syscall error", "connection to server",
                     "connection timed out", "eof detected", "broken pipe", "connection not open",
                     "cannot rollback, database connection not open")
_SQLITE_BUSY_WORDS = ("database is locked", "database table is locked", "database is busy")


def original(exc: BaseException) -> BaseException:
    """The driver's exception behind a peewee wrapper (peewee passes it as the first argument)."""
    seen = exc
    for _ in range(3):
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        inner = inner or seen.__cause__
        if inner is None:
            break
        seen = inner
    return seen


def _text(exc: BaseException) -> str:
    return " ".join(str(original(exc)).split()).lower()


def _chain(exc: BaseException) -> list[BaseException]:
    """The error and the ones it happened while handling (a failed ROLLBACK hides a full disk)."""
    out: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(out) < 6 and seen not in out:
        out.append(seen)
        seen = seen.__context__ or seen.__cause__
    return out


def is_database_error(exc: BaseException) -> bool:
    """True for any error raised by the database or its driver."""
    if isinstance(exc, (DatabaseError, InterfaceError, sqlite3.Error)):
        return True
    try:
        import psycopg2
    except ImportError:  # pragma: no cover - psycopg2 is a dependency
        return False
    return isinstance(exc, psycopg2.Error)


def is_disconnect(exc: BaseException) -> bool:
    """True when the connection is dead or could not be made: close it and connect again."""
    if not is_database_error(exc):
        return False
    code = getattr(original(exc), "pgcode", None) or ""
    if code.startswith("08") or code in ("57P01", "57P02", "57P03"):
        return True
    text = _text(exc)
    return any(word in text for word in _DISCONNECT_WORDS)


def transient_cause(exc: BaseException) -> str:
    """Why a later attempt may succeed ("a deadlock", "a lost connection", ...), or "" when it will not."""
    if not is_database_error(exc):
        return ""
    code = getattr(original(exc), "pgcode", None) or ""
    if code in _PG_TRANSIENT:
        return _PG_TRANSIENT[code]
    if is_disconnect(exc):
        return "a lost connection"
    text = _text(exc)
    if any(word in text for word in _SQLITE_BUSY_WORDS):
        return "a busy database"
    if "lock timeout" in text or "deadlock detected" in text:
        return "a lock conflict"
    return ""


def is_transient(exc: BaseException) -> bool:
    """True when running the same transaction again may succeed."""
    return bool(transient_cause(exc))


def is_disk_full(exc: BaseException) -> bool:
    """True when the database could not write for lack of space."""
    return any(is_database_error(e) and ("disk is full" in _text(e) or "no space left" in _text(e)
                                         or getattr(original(e), "pgcode", "") == "53100") for e in _chain(exc))


def database_unwell(exc: BaseException) -> bool:
    """True when the database, not the data written, is at fault (a message must not be blamed)."""
    from peewee import OperationalError

    return is_transient(exc) or is_disk_full(exc) or isinstance(exc, (OperationalError, InterfaceError)) or (
        is_database_error(exc) and isinstance(original(exc), sqlite3.OperationalError))


def redact(url: str) -> str:
    """The URL with its password replaced by ***."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def database_label(db: Database | None = None) -> str:
    """The bound database as users configured it (password redacted)."""
    target = db or database.obj
    url = getattr(target, "triage_url", "")
    if url:
        return redact(url)
    if target is None:
        return "the database"
    return getattr(target, "database", "") or type(target).__name__


def describe(exc: BaseException, db: Database | None = None) -> str:
    """One line naming the database and the cause; never a traceback."""
    target = db or database.obj
    where = f"the database at {database_label(target)}"
    exc = next((e for e in _chain(exc) if is_disk_full(e) and not e.__context__), exc)
    lines = [line.strip() for line in str(original(exc)).splitlines() if line.strip()]
    detail = (lines[0] if lines else type(original(exc)).__name__)[:300]
    if is_disk_full(exc) or ("disk i/o error" in detail.lower() and _no_space_left(target)):
        return f"{where} is out of space ({detail}); free some space, nothing is lost"
    cause = transient_cause(exc)
    if cause == "a lost connection":
        return f"{where} is unreachable ({detail})"
    if cause:
        return f"{where} kept failing with {cause} ({detail})"
    return f"{where} failed: {detail}"


def _no_space_left(db: Database | None) -> bool:
    """SQLite may report a full disk as an I/O error (the WAL could not grow): look at the disk."""
    path = getattr(db, "database", "") if db is not None else ""
    if not isinstance(db, SqliteDatabase) or not path or path == ":memory:":
        return False
    try:
        return shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free < 1024 * 1024
    except OSError:
        return False


def _retry_for(db: Database | None) -> float:
    return float(getattr(db, "triage_retry_for_s", DEFAULT_RETRY_FOR_S))


def reset_connection(db: Database | None = None) -> None:
    """Drop this thread's connection so the next query opens a fresh one (after a disconnect)."""
    target = db or database.obj
    if target is None or target.in_transaction():
        return
    try:
        target.close()
    except Exception:  # noqa: BLE001 - a dead socket may fail to close: forget it instead
        target._state.reset()


class _Outage:
    """When this process first failed to reach the database, to log how long it took to come back."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.since: float | None = None
        self.cause = ""
        self.recoveries: list[float] = []

    def failed(self, exc: BaseException) -> None:
        with self.lock:
            if self.since is None:
                self.since = time.monotonic()
                self.cause = describe(exc)
                log.warning("%s; retrying", self.cause)

    def succeeded(self) -> None:
        if self.since is None:
            return
        with self.lock:
            if self.since is None:
                return
            seconds = time.monotonic() - self.since
            self.since = None
            self.recoveries.append(seconds)
        log.warning("the database at %s answers again after %.2fs", database_label(), seconds)


OUTAGE = _Outage()


def recoveries() -> list[float]:
    """Seconds each outage of this process lasted, from the first failure to the next success."""
    return list(OUTAGE.recoveries)


def _before_sleep(state) -> None:
    exc = state.outcome.exception()
    OUTAGE.failed(exc)
    if is_disconnect(exc):
        reset_connection()
    else:
        log.info("retrying after %s (attempt %d)", transient_cause(exc), state.attempt_number)


def retrying(work: Callable[..., T], *args, retry_for_s: float | None = None,
             retry_if: Callable[[BaseException], bool] = is_transient, **kwargs) -> T:
    """Run `work` (one whole transaction or read) again while it fails transiently, then give up.

    Inside an open transaction it runs once: the caller that owns the transaction retries it.
    The wait between attempts is jittered and grows to 2 s; it gives up once `retry_for_s`
    (default: `[database] retry_for_s`) has passed and MIN_ATTEMPTS were made. The last error is raised as it was; `describe` words it.
    """
    db = database.obj
    if db is not None and db.in_transaction():
        return work(*args, **kwargs)
    budget = _retry_for(db) if retry_for_s is None else retry_for_s
    stop = stop_after_delay(budget) & stop_after_attempt(MIN_ATTEMPTS)
    for attempt in Retrying(stop=stop, wait=wait_random_exponential(multiplier=0.05, max=2),
                            retry=retry_if_exception(retry_if), before_sleep=_before_sleep, reraise=True):
        with attempt:
            result = work(*args, **kwargs)
    OUTAGE.succeeded()
    return result


def until_committed(record: Callable[..., T], *args, give_up_after_s: float = 3600.0, **kwargs) -> T:
    """Write the record of a side effect that already happened, retrying until it commits.

    A sent reply or a tracker write cannot be undone, so its record must not be lost to a
    deadlock, a restart or a full disk: this keeps trying (waits up to 5 s apart) for as long as
    the error could pass, and raises only an error no retry can fix.
    """
    def could_pass(exc: BaseException) -> bool:
        return is_transient(exc) or is_disk_full(exc)

    db = database.obj
    if db is not None and db.in_transaction():
        raise RuntimeError("until_committed must own its transaction")
    for attempt in Retrying(stop=stop_after_delay(give_up_after_s),
                            wait=wait_random_exponential(multiplier=0.1, max=5),
                            retry=retry_if_exception(could_pass), before_sleep=_before_sleep, reraise=True):
        with attempt:
            result = record(*args, **kwargs)
    OUTAGE.succeeded()
    return result


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> str:
    """Log a failed pass of a loop: one line for a database error, the traceback for a bug; returns the line."""
    if is_database_error(exc):
        line = f"{what}: {describe(exc)}"
        logger.warning("%s", line)
        return line
    logger.exception("%s", what)
    return f"{what}: {type(exc).__name__}: {exc}"
