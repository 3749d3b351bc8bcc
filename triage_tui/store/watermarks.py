"""How far the poller has safely ingested each grant."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from triage_tui.store.db import is_sqlite, write_transaction
from triage_tui.store.models import Meta, WatermarkRow
from triage_tui.store.text import db_safe, dumps, loads


@dataclass(frozen=True)
class Watermark:
    """A grant's watermark: everything received up to `received_after` is stored."""

    grant_id: str
    received_after: int = 0
    last_sync_at: float | None = None
    last_error: str = ""


def read_watermark(grant_id: str) -> Watermark:
    """The grant's watermark (zero when it never synced)."""
    row = WatermarkRow.get_or_none(WatermarkRow.grant_id == grant_id)
    if row is None:
        return Watermark(grant_id)
    return Watermark(grant_id, int(row.received_after), row.last_sync_at, row.last_error)


def all_watermarks() -> list[Watermark]:
    """Every grant's watermark."""
    return [
        Watermark(r.grant_id, int(r.received_after), r.last_sync_at, r.last_error)
        for r in WatermarkRow.select().order_by(WatermarkRow.grant_id)
    ]


def advance_watermark(grant_id: str, received_after: int | None, *, now: float | None = None,
                      lease: "PollLease | None" = None) -> None:
    """Record a successful sync; the watermark only ever moves forward (fenced by `lease` if given)."""
    now = time.time() if now is None else now
    with write_transaction():
        if lease is not None:
            _check_fence(lease)
        row = WatermarkRow.get_or_none(WatermarkRow.grant_id == grant_id)
        if row is None:
            WatermarkRow.insert(grant_id=grant_id, received_after=int(received_after or 0),
                                last_sync_at=now, last_error="").on_conflict_ignore().execute()
            return
        value = max(int(row.received_after), int(received_after or 0))
        WatermarkRow.update(received_after=value, last_sync_at=now, last_error="").where(
            WatermarkRow.grant_id == grant_id
        ).execute()


def record_sync_error(grant_id: str, error: str) -> None:
    """Keep the last sync error of a grant for `status` and the console."""
    with write_transaction():
        inserted = WatermarkRow.insert(grant_id=grant_id, last_error=db_safe(error)[:2000]).on_conflict_ignore()
        inserted.execute()
        WatermarkRow.update(last_error=db_safe(error)[:2000]).where(WatermarkRow.grant_id == grant_id).execute()


SWEEP_KEY = "poll.sweep."


def load_sweep(grant_id: str) -> dict | None:
    """The saved progress of an unfinished poll sweep (survives a crash), or None."""
    row = Meta.get_or_none(Meta.key == SWEEP_KEY + grant_id)
    return loads(row.value, None) if row else None


def save_sweep(grant_id: str, state: dict, *, lease: "PollLease | None" = None) -> None:
    """Remember how far a sweep got, after the pages it covered were committed (fenced by `lease`)."""
    with write_transaction():
        if lease is not None:
            _check_fence(lease)
        value = dumps(state)
        Meta.insert(key=SWEEP_KEY + grant_id, value=value).on_conflict(
            conflict_target=[Meta.key], update={Meta.value: value}
        ).execute()


def clear_sweep(grant_id: str, *, lease: "PollLease | None" = None) -> None:
    """Forget a finished (or abandoned) sweep (fenced by `lease` if given)."""
    with write_transaction():
        if lease is not None:
            _check_fence(lease)
        Meta.delete().where(Meta.key == SWEEP_KEY + grant_id).execute()


POLL_LEASE_KEY = "poll.lease."


class PollLeaseLost(RuntimeError):
    """Another worker took over this grant's poll (our lease expired): stop without writing."""


@dataclass(frozen=True)
class PollLease:
    """The right to poll one grant until `expires_at`; `fence` grows with every new holder."""

    grant_id: str
    holder: str
    fence: int
    expires_at: float


def claim_poll_lease(grant_id: str, holder: str, *, lease_s: float, now: float | None = None,
                     respect_schedule: bool = False,
                     holder_is_dead: Callable[[str], bool] | None = None) -> PollLease | None:
    """Take the poll of a grant unless another live holder has it (or is claiming it right now).

    `respect_schedule`: also leave it alone while another worker's last complete poll is recent.
    `holder_is_dead(holder)`: True when the holder is known to be gone (its lease is then void).
    """
    now = time.time() if now is None else now
    key = POLL_LEASE_KEY + grant_id
    with write_transaction():
        Meta.insert(key=key, value=dumps({"holder": "", "fence": 0, "expires_at": 0, "not_before": 0})
                    ).on_conflict_ignore().execute()
        state = _locked_lease_state(key, skip_locked=True)
        if state is None:
            return None  # another worker holds the row lock: it is claiming this grant
        other = state.get("holder") if state.get("holder") != holder else ""
        live = bool(other) and float(state.get("expires_at") or 0) > now
        if live and holder_is_dead is not None and holder_is_dead(other):
            live = False
        polled_recently = (respect_schedule and state.get("polled_by") != holder
                           and float(state.get("not_before") or 0) > now)
        if live or polled_recently:
            return None
        fence = int(state.get("fence") or 0) + (0 if state.get("holder") == holder else 1)
        lease = PollLease(grant_id, holder, fence, now + lease_s)
        _write_lease(key, lease, not_before=0)
        return lease


def renew_poll_lease(lease: PollLease, *, lease_s: float, now: float | None = None) -> PollLease:
    """Extend a held lease; PollLeaseLost when another worker took the grant over."""
    now = time.time() if now is None else now
    with write_transaction():
        _check_fence(lease)
        renewed = PollLease(lease.grant_id, lease.holder, lease.fence, now + lease_s)
        _write_lease(POLL_LEASE_KEY + lease.grant_id, renewed, not_before=0)
        return renewed


def release_poll_lease(lease: PollLease, *, next_poll_in_s: float = 0.0, now: float | None = None) -> None:
    """Give the poll back; no other worker polls the grant again for `next_poll_in_s` seconds."""
    now = time.time() if now is None else now
    with write_transaction():
        try:
            _check_fence(lease)
        except PollLeaseLost:
            return
        free = PollLease(lease.grant_id, "", lease.fence, 0)
        _write_lease(POLL_LEASE_KEY + lease.grant_id, free, not_before=now + next_poll_in_s,
                     polled_by=lease.holder)


def poll_wait_s(grant_id: str, *, now: float | None = None, check_every_s: float = 1.0) -> float:
    """After a claim was refused: seconds before trying again is worth it.

    While another worker holds the lease, check every `check_every_s` (its process may be gone,
    or the lease end); after another worker's complete poll, wait for its `not_before`.
    """
    now = time.time() if now is None else now
    row = Meta.get_or_none(Meta.key == POLL_LEASE_KEY + grant_id)
    state = (loads(row.value, {}) or {}) if row is not None else {}
    expires_at = float(state.get("expires_at") or 0)
    if state.get("holder") and expires_at > now:
        return max(0.05, min(check_every_s, expires_at - now))
    not_before = float(state.get("not_before") or 0)
    return not_before - now if not_before > now else check_every_s


def read_poll_lease(grant_id: str) -> PollLease | None:
    """The current poll lease of a grant (holder "" when free), or None when never claimed."""
    row = Meta.get_or_none(Meta.key == POLL_LEASE_KEY + grant_id)
    if row is None:
        return None
    state = loads(row.value, {}) or {}
    return PollLease(grant_id, state.get("holder", ""), int(state.get("fence") or 0),
                     float(state.get("expires_at") or 0))


def _check_fence(lease: PollLease) -> None:
    """Inside a write transaction: raise PollLeaseLost unless `lease` is still the current one."""
    state = _locked_lease_state(POLL_LEASE_KEY + lease.grant_id, skip_locked=False) or {}
    if state.get("holder") != lease.holder or int(state.get("fence") or 0) != lease.fence:
        raise PollLeaseLost(f"the poll of {lease.grant_id} was taken over by {state.get('holder') or 'nobody'}")


def _locked_lease_state(key: str, *, skip_locked: bool) -> dict | None:
    query = Meta.select().where(Meta.key == key)
    if not is_sqlite():
        query = query.for_update(skip_locked=skip_locked)
    row = query.first()
    return None if row is None else (loads(row.value, {}) or {})


def _write_lease(key: str, lease: PollLease, *, not_before: float, polled_by: str = "") -> None:
    value = dumps({"holder": lease.holder, "fence": lease.fence, "expires_at": lease.expires_at,
                   "not_before": not_before, "polled_by": polled_by})
    Meta.update(value=value).where(Meta.key == key).execute()
