"""The Tracker protocol, the request and result values that cross it, and its errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from triage_tui.domain import TrackerOp

# What a failed attempt says about whether the write landed.
NOT_LANDED = "no"
MAYBE_LANDED = "maybe"


@dataclass(frozen=True)
class ExternalRef:
    """Where a ticket lives in a tracker: the API handle, the human key and the web URL."""

    external_id: str
    external_key: str
    url: str = ""


@dataclass(frozen=True)
class WriteRequest:
    """One write as the dispatcher hands it to an adapter; content is fixed at enqueue time."""

    command_result_id: str
    op: TrackerOp
    ticket_id: str
    payload: dict
    client_id: str = ""
    ref: ExternalRef | None = None
    first_attempt_at: float | None = None
    last_sent_at: float | None = None


@dataclass(frozen=True)
class WriteResult:
    """What landed: for a create the ticket's ref; for a comment its id; `replay` when the tracker deduped."""

    external_id: str = ""
    external_key: str = ""
    url: str = ""
    remote_id: str = ""
    replay: bool = False
    reconciled: bool = False
    note: str = ""

    def ref(self) -> ExternalRef:
        """The ref of a created item."""
        return ExternalRef(self.external_id, self.external_key, self.url)


@dataclass(frozen=True)
class Reconciled:
    """What looking for an earlier attempt found: landed, absent (safe to send), wait, or ask a human."""

    verdict: str
    result: WriteResult | None = None
    retry_at: float | None = None
    reason: str = ""

    @classmethod
    def landed(cls, result: WriteResult) -> "Reconciled":
        """The earlier attempt landed; record this result."""
        return cls("landed", result=result)

    @classmethod
    def absent(cls) -> "Reconciled":
        """Nothing landed, or the tracker dedupes a resend itself: sending is safe."""
        return cls("absent")

    @classmethod
    def wait(cls, until: float, reason: str) -> "Reconciled":
        """Not found yet, but it could still appear (an index or list lag): look again later."""
        return cls("wait", retry_at=until, reason=reason)

    @classmethod
    def not_found(cls, request: "WriteRequest", now: float, grace_s: float, why: str) -> "Reconciled":
        """Not found: wait while the last send is younger than `grace_s` (a lagging listing), then absent."""
        until = (request.last_sent_at or 0) + grace_s
        return cls.wait(until, why) if now < until else cls.absent()

    @classmethod
    def human(cls, reason: str) -> "Reconciled":
        """No way to know without a person: flag it, never resend."""
        return cls("human", reason=reason)


class TrackerError(Exception):
    """A failed tracker call: its kind, whether the write may have landed, and when to try again."""

    def __init__(self, message: str, *, kind: str, landed: str = NOT_LANDED, retryable: bool = False,
                 retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.landed = landed
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


def auth_error(message: str, status: int | None = None) -> TrackerError:
    """401/403: the credentials are refused; nothing landed, a person must fix them."""
    return TrackerError(message, kind="auth", status=status)


def rate_limited(message: str, retry_after: float | None, status: int | None = None) -> TrackerError:
    """The tracker asked us to slow down; the request was not carried out."""
    return TrackerError(message, kind="rate_limited", retryable=True, retry_after=retry_after, status=status)


def unreachable(message: str) -> TrackerError:
    """No connection was made; nothing was sent."""
    return TrackerError(message, kind="unavailable", retryable=True)


def outcome_unknown(message: str, status: int | None = None, retry_after: float | None = None) -> TrackerError:
    """Sent, but no usable answer (timeout, dropped connection, 5xx): it may have landed."""
    return TrackerError(message, kind="unknown", landed=MAYBE_LANDED, retryable=True, status=status,
                        retry_after=retry_after)


def rejected(message: str, status: int | None = None) -> TrackerError:
    """The tracker refused the request as it is (validation, not found, gone); a person must look."""
    return TrackerError(message, kind="rejected", status=status)


def misconfigured(message: str) -> TrackerError:
    """The tracker cannot be used as configured (a missing token, an unknown state)."""
    return TrackerError(message, kind="config")


class Tracker(Protocol):
    """One configured tracker: writes and the look-up that finds a write which may have landed."""

    name: str
    kind: str
    min_interval_s: float

    def write(self, request: WriteRequest) -> WriteResult:
        """Carry out the create, comment or status change; TrackerError when it fails."""
        ...

    def reconcile(self, request: WriteRequest, now: float) -> Reconciled:
        """Before resending a write whose outcome is unknown: did it land?"""
        ...

    def close(self) -> None:
        """Release the HTTP client."""
        ...

