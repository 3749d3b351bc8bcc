"""Risk policy from config: who may send where, what needs approval, and the send limits."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlparse

from triage_tui.config import Config, InboxConfig
from triage_tui.domain import InboundMessage
from triage_tui.outbound.content import normalise_email
from triage_tui.store.models import OutboxRow
from triage_tui.store.text import loads

HOUR = 3600.0
IN_FLIGHT = ("claimed", "sending")


class PolicyError(ValueError):
    """A send or approval the policy refuses; the message says which rule."""


def needs_approval(kind: str, config: Config) -> bool:
    """True when this kind of send waits for a human (every send by default)."""
    return kind in config.outbound.require_approval


def check_reject_reason(reason: str, config: Config) -> None:
    """Raise PolicyError when a rejection without a reason is not allowed."""
    if config.outbound.reject_reason_required and not (reason or "").strip():
        raise PolicyError("a reason is required to reject")


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses: where the bundled sandbox listens."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def send_api_uri(config: Config) -> str:
    """The API to send through: in "test" only the loopback sandbox or the configured sink."""
    if config.environment == "production":
        return config.nylas.api_uri
    if config.outbound.sink_api_uri:
        return config.outbound.sink_api_uri.rstrip("/")
    host = (urlparse(config.nylas.api_uri).hostname or "").lower()
    if is_loopback(host):
        return config.nylas.api_uri
    raise PolicyError(
        f"environment is \"test\": refusing to send through {config.nylas.api_uri} "
        "(use the sandbox on 127.0.0.1, set outbound.sink_api_uri, or set environment = \"production\")"
    )


def sending_inbox(config: Config, grant_id: str) -> InboxConfig:
    """The configured inbox a send goes out from, or PolicyError (unknown or production-in-test)."""
    inbox = config.inbox(grant_id)
    if inbox is None:
        raise PolicyError(f"grant {grant_id!r} is not one of the configured inboxes")
    if config.environment == "test" and inbox.production:
        raise PolicyError(f"grant {grant_id!r} is marked production; environment is \"test\"")
    return inbox


def auto_reply_blockers(message: InboundMessage) -> list[str]:
    """RFC 3834 reasons an automatic acknowledgement must not answer this message (empty = may)."""
    reasons = []
    auto = (message.header("Auto-Submitted") or "no").strip().lower()
    if auto != "no":
        reasons.append(f"Auto-Submitted: {auto}")
    precedence = (message.header("Precedence") or "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        reasons.append(f"Precedence: {precedence}")
    if any(h.name.lower().startswith("list-") for h in message.headers):
        reasons.append("mailing list (List-* header)")
    return_path = message.header("Return-Path")
    if return_path is not None and return_path.strip() in ("<>", ""):
        reasons.append("null return path")
    suppress = (message.header("X-Auto-Response-Suppress") or "").lower()
    if "all" in suppress or "autoreply" in suppress:
        reasons.append(f"X-Auto-Response-Suppress: {suppress}")
    if "delivery-status" in (message.header("Content-Type") or "").lower():
        reasons.append("delivery status notification")
    if message.header("X-Triage-Ticket") is not None:
        reasons.append("carries our own ticket marker (loop)")
    if not message.sender.email:
        reasons.append("no sender")
    return reasons


@dataclass(frozen=True)
class LimitVerdict:
    """The outcome of the claim-time limits: go, wait until a moment, or never."""

    ok: bool
    reason: str = ""
    retry_at: float | None = None
    permanent: bool = False


def _utc_day_start(now: float) -> float:
    day = datetime.fromtimestamp(now, tz=timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return day.timestamp()


def _recent(now: float, window: float, exclude_id: int):
    """Rows sent within the window plus rows in flight now (they may be sent any moment)."""
    return OutboxRow.select().where(
        (OutboxRow.id != exclude_id)
        & (((OutboxRow.state == "sent") & (OutboxRow.sent_at >= now - window)) | OutboxRow.state.in_(IN_FLIGHT))
    )


def check_limits(row: OutboxRow, config: Config, now: float) -> LimitVerdict:
    """Daily cap per grant, hourly per recipient and per thread, one acknowledgement per sender."""
    limits = config.outbound
    day_start = _utc_day_start(now)
    sent_today = (
        _recent(now, now - day_start, row.id).where(OutboxRow.grant_id == row.grant_id).count()
    )
    if sent_today >= limits.daily_cap_per_grant:
        return LimitVerdict(False, f"daily cap of {limits.daily_cap_per_grant} sends for this grant reached",
                            retry_at=day_start + 24 * HOUR)
    recipients = {normalise_email(a.get("email", "")) for a in loads(row.to_addrs, []) + loads(row.cc_addrs, [])}
    if row.kind == "acknowledgement":
        window = limits.ack_once_per_days * 24 * HOUR
        for other in _recent(now, window, row.id).where(OutboxRow.kind == "acknowledgement"):
            if recipients & {normalise_email(a.get("email", "")) for a in loads(other.to_addrs, [])}:
                return LimitVerdict(False, f"an acknowledgement already went to this sender in the last "
                                    f"{limits.ack_once_per_days} days (RFC 3834)", permanent=True)
    per_recipient: dict[str, list[float]] = {}
    per_thread: list[float] = []
    for other in _recent(now, HOUR, row.id):
        moment = other.sent_at if other.sent_at is not None else now
        if row.thread_id and other.thread_id == row.thread_id and other.grant_id == row.grant_id:
            per_thread.append(moment)
        for address in loads(other.to_addrs, []) + loads(other.cc_addrs, []):
            email = normalise_email(address.get("email", ""))
            if email in recipients:
                per_recipient.setdefault(email, []).append(moment)
    if len(per_thread) >= limits.per_thread_per_hour:
        return LimitVerdict(False, f"{limits.per_thread_per_hour} sends in this thread within the hour "
                            "(loop breaker)", retry_at=min(per_thread) + HOUR)
    for email, moments in per_recipient.items():
        if len(moments) >= limits.per_recipient_per_hour:
            return LimitVerdict(False, f"{limits.per_recipient_per_hour} sends to {email} within the hour "
                                "(loop breaker)", retry_at=min(moments) + HOUR)
    return LimitVerdict(True)
