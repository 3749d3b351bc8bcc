"""Review leases: who in the team is looking at a message; expired leases are free to take."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from peewee import IntegrityError

from triage_tui.domain import AuditEvent, ReviewLeaseState
from triage_tui.store.audit import record_audit
from triage_tui.store.db import is_sqlite, write_transaction
from triage_tui.store.models import MessageRow, ReviewLease
from triage_tui.store.text import db_safe, from_epoch


class LeaseError(ValueError):
    """A lease request that cannot be honoured (unknown message, bad holder or TTL)."""


def take_review_lease(
    key: int,
    *,
    holder: str,
    ttl_s: float = 300,
    force: bool = False,
    now: float | None = None,
) -> ReviewLeaseState:
    """Take or renew the lease on a message; another live holder keeps it unless force=True."""
    holder = db_safe(holder).strip()
    if not holder:
        raise LeaseError("a lease needs a holder name")
    if ttl_s <= 0:
        raise LeaseError("a lease needs a positive ttl_s")
    now = time.time() if now is None else now
    expires_at = now + ttl_s
    try:
        return _take(key, holder, expires_at, force, now)
    except IntegrityError:
        # Another console inserted the first lease between our read and our insert: read again.
        return _take(key, holder, expires_at, force, now)


def release_review_lease(key: int, *, holder: str) -> None:
    """Give a lease back; a lease someone else holds now is left alone."""
    with write_transaction():
        ReviewLease.delete().where(
            ReviewLease.message == key, ReviewLease.holder == db_safe(holder).strip()
        ).execute()


def lease_holders(keys: list[int], *, now: float | None = None) -> dict[int, str]:
    """The live holder of each of these messages that has one."""
    if not keys:
        return {}
    now = time.time() if now is None else now
    query = ReviewLease.select(ReviewLease.message, ReviewLease.holder).where(
        ReviewLease.message.in_(list(keys)), ReviewLease.expires_at > now
    )
    return {message: holder for message, holder in query.tuples()}


def lease_of(key: int, *, now: float | None = None) -> ReviewLeaseState | None:
    """The live lease on one message, or None."""
    now = time.time() if now is None else now
    row = ReviewLease.get_or_none(ReviewLease.message == key, ReviewLease.expires_at > now)
    if row is None:
        return None
    return ReviewLeaseState(holder=row.holder, expires_at=from_epoch(row.expires_at), taken=False)


def _take(key: int, holder: str, expires_at: float, force: bool, now: float) -> ReviewLeaseState:
    with write_transaction():
        query = ReviewLease.select().where(ReviewLease.message == key)
        if not is_sqlite():
            query = query.for_update()
        current = query.first()
        if current is None:
            message = MessageRow.get_or_none(MessageRow.id == key)
            if message is None:
                raise LeaseError(f"message {key} does not exist")
            ReviewLease.insert(message=key, holder=holder, expires_at=expires_at).execute()
            return _state(holder, expires_at, taken=True)
        live_other = current.holder != holder and current.expires_at > now
        if live_other and not force:
            return _state(current.holder, current.expires_at, taken=False)
        ReviewLease.update(holder=holder, expires_at=expires_at).where(
            ReviewLease.id == current.id
        ).execute()
        previous = current.holder if current.holder != holder else ""
        if live_other:
            _audit_takeover(key, holder, current.holder, now)
        return _state(holder, expires_at, taken=True, previous=previous)


def _audit_takeover(key: int, holder: str, previous: str, now: float) -> None:
    message = MessageRow.get_by_id(key)
    record_audit(
        AuditEvent(
            action="lease.takeover",
            actor=holder,
            at=datetime.fromtimestamp(now, tz=timezone.utc),
            tenant_id=message.tenant_id,
            environment=message.environment,
            grant_id=message.grant_id,
            message_id=message.message_id,
            thread_id=message.thread_id,
            ticket_id=message.ticket_id,
            detail={"previous_holder": previous},
        )
    )


def _state(holder: str, expires_at: float, *, taken: bool, previous: str = "") -> ReviewLeaseState:
    return ReviewLeaseState(
        holder=holder, expires_at=from_epoch(expires_at), taken=taken, previous_holder=previous
    )
