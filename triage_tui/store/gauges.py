"""Store-wide figures the metrics collector reads at every scrape; each is an indexed read."""

from __future__ import annotations

from dataclasses import dataclass

from peewee import Case, fn

from triage_tui.domain import MessageState
from triage_tui.store.control import STOP_SWITCH, TRACKER_PAUSE
from triage_tui.store.models import (
    ControlRow,
    ConversationRow,
    DecisionRow,
    MessageRow,
    OutboxRow,
    SuggestionRow,
    TrackerWriteRow,
    WebhookEventRow,
)
from triage_tui.store.queue import OPEN_CONVERSATION_STATES, OPEN_STATES, URGENCY_RANKS
from triage_tui.store.watermarks import all_watermarks
from triage_tui.store.webhook_events import PENDING, PROCESSING

_OPEN = [state.value for state in OPEN_STATES]
_OPEN_CONVERSATIONS = [state.value for state in OPEN_CONVERSATION_STATES]


@dataclass(frozen=True)
class Waiting:
    """Messages of one urgency waiting for a human: how many, the oldest, how many are past the SLA."""

    count: int
    oldest_received_at: float | None
    over_sla: int


@dataclass(frozen=True)
class SwitchState:
    """The stop switch as the metrics see it: on or off, and when it last changed (None: never set)."""

    on: bool
    changed_at: float | None


def newest_received_at(grant_ids: list[str]) -> dict[str, float | None]:
    """grant id -> received_at of its newest stored (not quarantined) message, None when it has none."""
    newest: dict[str, float | None] = {}
    for grant_id in grant_ids:
        newest[grant_id] = (
            MessageRow.select(MessageRow.received_at)
            .where(MessageRow.grant_id == grant_id, MessageRow.state != MessageState.QUARANTINED.value)
            .order_by(MessageRow.received_at.desc())
            .limit(1)
            .scalar()
        )
    return newest


def last_successful_sync() -> dict[str, float | None]:
    """grant id -> when its last poll completed (epoch seconds), None when it never did."""
    return {mark.grant_id: mark.last_sync_at for mark in all_watermarks()}


def waiting_by_urgency(now: float, sla_s: dict[str, float]) -> dict[str, Waiting]:
    """urgency -> the messages waiting for a human (new or needs_human): one pass over the queue index."""
    return _waiting(MessageRow, MessageRow.received_at, MessageRow.state.in_(_OPEN), now, sla_s)


def conversations_waiting_by_urgency(now: float, sla_s: dict[str, float]) -> dict[str, Waiting]:
    """urgency -> the conversations waiting on us (untriaged or an open ticket with unanswered customer
    mail), aged from their oldest unanswered customer message."""
    return _waiting(ConversationRow, ConversationRow.sla_started_at,
                    ConversationRow.state.in_(_OPEN_CONVERSATIONS) & ConversationRow.sla_started_at.is_null(False),
                    now, sla_s)


def _waiting(model, since, where, now: float, sla_s: dict[str, float]) -> dict[str, Waiting]:
    rank = model.urgency_rank
    cutoff = Case(rank, [(r, now - sla_s[u]) for u, r in URGENCY_RANKS.items() if u in sla_s], None)
    over = fn.SUM(Case(None, [(since < cutoff, 1)], 0))
    query = model.select(rank, fn.COUNT(model.id), fn.MIN(since), over).where(where).group_by(rank)
    found = {r: Waiting(int(count), oldest, int(late or 0)) for r, count, oldest, late in query.tuples()}
    return {urgency: found.get(r, Waiting(0, None, 0)) for urgency, r in URGENCY_RANKS.items()}


def decisions_by_kind() -> dict[str, int]:
    """decision kind -> how many were ever made."""
    query = DecisionRow.select(DecisionRow.kind, fn.COUNT(DecisionRow.id)).group_by(DecisionRow.kind)
    return {kind: count for kind, count in query.tuples()}


def outbox_by_kind_and_state() -> dict[tuple[str, str], int]:
    """(kind, state) -> outbox entries."""
    query = OutboxRow.select(OutboxRow.kind, OutboxRow.state, fn.COUNT(OutboxRow.id)).group_by(
        OutboxRow.kind, OutboxRow.state)
    return {(kind, state): count for kind, state, count in query.tuples()}


def tracker_writes_by_state() -> dict[tuple[str, str], int]:
    """(tracker, state) -> tracker writes."""
    query = TrackerWriteRow.select(TrackerWriteRow.tracker, TrackerWriteRow.state, fn.COUNT(TrackerWriteRow.id)).group_by(
        TrackerWriteRow.tracker, TrackerWriteRow.state)
    return {(tracker, state): count for tracker, state, count in query.tuples()}


def tracker_pause_state(now: float) -> SwitchState:
    """The tracker-write pause (`pause --trackers`), as the stop switch's state."""
    return stop_switch_state(now, TRACKER_PAUSE)


def provisional_suggestions() -> int:
    """Suggestions made at ingest by the quick classifiers, not yet upgraded by the whole chain."""
    return SuggestionRow.select().where(SuggestionRow.provisional == True).count()  # noqa: E712


def webhook_events_waiting() -> dict[str, int]:
    """status -> stored notifications not yet processed (pending, processing)."""
    query = (WebhookEventRow.select(WebhookEventRow.status, fn.COUNT(WebhookEventRow.id))
             .where(WebhookEventRow.status.in_([PENDING, PROCESSING])).group_by(WebhookEventRow.status))
    return {PENDING: 0, PROCESSING: 0, **{status: count for status, count in query.tuples()}}


def stop_switch_state(now: float, key: str = STOP_SWITCH) -> SwitchState:
    """On/off (an expired pause is off) and when that last changed; `key` names another switch."""
    row = ControlRow.get_or_none(ControlRow.key == key)
    if row is None:
        return SwitchState(False, None)
    if row.on and row.until is not None and row.until <= now:
        return SwitchState(False, row.until)  # the pause ran out: it went off at `until`
    return SwitchState(bool(row.on), row.updated_at)
