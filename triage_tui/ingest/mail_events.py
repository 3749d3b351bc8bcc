"""Drained notifications that change stored state rather than bring mail: message.updated (flags,
folders, Junk/Trash) and the delivery-status triggers of our sends."""

from __future__ import annotations

import logging
import time
from collections import defaultdict

from triage_tui.domain import MailUpdate
from triage_tui.nylas.errors import GatewayError, NotFound
from triage_tui.nylas.notifications import delivery_report, mail_update, payload_of
from triage_tui.store.delivery import UNMATCHED, record_delivery
from triage_tui.store.mail_updates import AMBIGUOUS, MISSING, apply_mail_update
from triage_tui.store.messages import InboxScope
from triage_tui.store.transient import retrying
from triage_tui.store.webhook_events import DONE, IGNORED, PendingEvent, event_bodies, mark_events

log = logging.getLogger(__name__)


def _version(payload: dict, event: PendingEvent) -> float:
    at = payload.get("time")
    return float(at) if isinstance(at, int | float) and not isinstance(at, bool) else event.received_at


def apply_updates(gateway, scope: InboxScope, events: list[PendingEvent]) -> dict[int, str]:
    """Apply message.updated events oldest first per message; returns row id -> outcome.

    MISSING means the message is not stored (the caller ingests it, then calls again). An ambiguous
    tie (same second, different state) re-reads the message from the API, the source of truth.
    """
    bodies = retrying(event_bodies, [e.row_id for e in events])
    by_message: dict[str, list[tuple[float, PendingEvent, MailUpdate]]] = defaultdict(list)
    outcomes: dict[int, str] = {}
    for event in events:
        payload = payload_of(bodies.get(event.row_id, b""))
        update = mail_update(payload)
        if update is None or update.message_id != event.message_id:
            outcomes[event.row_id] = "unreadable"
            continue
        by_message[update.message_id].append((_version(payload, event), event, update))
    for items in by_message.values():
        items.sort(key=lambda item: item[0])
        fetched_at: float | None = None
        for version, event, update in items:
            if version == fetched_at:
                outcomes[event.row_id] = "fetched"
                continue
            outcome = _apply(scope, update, version, event)
            if outcome == AMBIGUOUS:
                outcome = _apply_fetched(gateway, scope, update.message_id, version, event)
                fetched_at = version
            outcomes[event.row_id] = outcome
    return outcomes


def _apply(scope, update, version, event, *, fetched: bool = False) -> str:
    return retrying(apply_mail_update, scope, update, version, fetched=fetched, event_id=event.event_id,
                    trigger=event.trigger, received_at=event.received_at, now=time.time())


def _apply_fetched(gateway, scope, message_id: str, version: float, event: PendingEvent) -> str:
    try:
        message = gateway.get_message(scope.grant_id, message_id)
    except NotFound:
        return MISSING
    except GatewayError as exc:
        if exc.retryable:
            raise  # the events stay claimed and come back after the lease
        return f"not re-read: {exc}"[:200]
    current = MailUpdate(message_id=message_id, folder_ids=tuple(message.folder_ids), unread=message.unread,
                         starred=message.starred)
    return _apply(scope, current, version, event, fetched=True)


def apply_deliveries(grant_id: str, events: list[PendingEvent]) -> dict[str, int]:
    """Apply delivery-status events to our outbox entries and mark them done (or ignored when no
    send of ours matches); returns how many had each outcome."""
    bodies = retrying(event_bodies, [e.row_id for e in events])
    counts: dict[str, int] = defaultdict(int)
    done, unmatched = [], []
    for event in events:
        report = delivery_report(event.trigger, payload_of(bodies.get(event.row_id, b"")))
        outcome = UNMATCHED if report is None else retrying(
            record_delivery, grant_id, report, event_id=event.event_id, trigger=event.trigger,
            received_at=event.received_at, now=time.time())
        counts[outcome] += 1
        (unmatched if outcome == UNMATCHED else done).append(event.row_id)
    retrying(mark_events, done, DONE)
    retrying(mark_events, unmatched, IGNORED, error="no send of ours matches this delivery event")
    return dict(counts)
