"""The console queue: keyset windows over conversations (or messages), counts, header figures.

Every window is a merge of a few indexed range scans, one per state (or ticket status) and urgency
asked for, each bounded by LIMIT: on (state, urgency_rank, sort_at, id) of `conversations`, or
(state, urgency_rank, received_at, id) of `messages` in the message view. No OFFSET, no COUNT, no
grouping at read time, so the cost of a page does not grow with the size of the queue.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable, Iterable

from peewee import SQL, Field, Model, Tuple, fn

from triage_tui.domain import (
    ConversationState,
    HeaderStats,
    MessageState,
    QueueCursor,
    QueueFilter,
    QueueItem,
)
from triage_tui.store.conversations import conversation_item
from triage_tui.store.leases import lease_holders
from triage_tui.store.models import AuditRow, ConversationRow, MessageRow, OutboxRow, ReviewLease
from triage_tui.store.query_language import QUERY_HELP, QueryError, parse_query  # noqa: F401 (re-exported)
from triage_tui.store.text import from_epoch, loads

URGENCY_RANKS: dict[str, int] = {"critical": 0, "high": 1, "normal": 2, "low": 3}
OPEN_STATES = (MessageState.NEW, MessageState.NEEDS_HUMAN)
OPEN_CONVERSATION_STATES = (ConversationState.NEW, ConversationState.NEEDS_HUMAN, ConversationState.OPEN)
WAITING_SEND_STATES = ("pending", "claimed", "retry")
MAX_LIMIT = 1000
SPARK_MINUTES = 30


@dataclass(frozen=True)
class _View:
    """One way of listing the queue: the table, its keyset columns and how a row becomes an item."""

    model: type[Model]
    at: Field
    open_states: tuple[str, ...]
    columns: tuple[Field, ...]
    to_item: Callable[[tuple, dict[int, str]], QueueItem]
    lease_key: Callable[[tuple], int | None]
    searched: tuple[Field, ...]


def _message_item(row: tuple, holders: dict[int, str]) -> QueueItem:
    (key, rank, received, grant_id, message_id, thread_id, subject, sender_email, sender_name,
     state, category, urgency, confidence, flags, ticket_id, conversation_id) = row
    return QueueItem(
        key=key, grant_id=grant_id, message_id=message_id, thread_id=thread_id, subject=subject,
        sender=sender_email or sender_name, received_at=from_epoch(received), state=state_of(state),
        category=category, urgency=urgency, confidence=confidence, flags=[str(f) for f in loads(flags, [])],
        ticket_id=ticket_id, lease_holder=holders.get(key, ""), sort_rank=rank, sort_received_at=received,
        message_key=key, conversation_key=conversation_id,
    )


def _conversation_item(row: tuple, holders: dict[int, str]) -> QueueItem:
    conversation = SimpleNamespace(**dict(zip(_CONVERSATION_FIELDS, row)))
    return conversation_item(conversation, holders.get(conversation.message_key or 0, ""))


MESSAGES = _View(
    MessageRow, MessageRow.received_at, tuple(s.value for s in OPEN_STATES),
    (MessageRow.id, MessageRow.urgency_rank, MessageRow.received_at, MessageRow.grant_id, MessageRow.message_id,
     MessageRow.thread_id, MessageRow.subject, MessageRow.sender_email, MessageRow.sender_name, MessageRow.state,
     MessageRow.category, MessageRow.urgency, MessageRow.confidence, MessageRow.flags, MessageRow.ticket_id,
     MessageRow.conversation_id),
    _message_item, lambda row: row[0],
    (MessageRow.subject, MessageRow.sender_email, MessageRow.sender_name),
)
CONVERSATIONS = _View(
    ConversationRow, ConversationRow.sort_at, tuple(s.value for s in OPEN_CONVERSATION_STATES),
    (ConversationRow.id, ConversationRow.urgency_rank, ConversationRow.sort_at, ConversationRow.grant_id,
     ConversationRow.message_id, ConversationRow.thread_id, ConversationRow.subject, ConversationRow.sender_email,
     ConversationRow.sender_name, ConversationRow.state, ConversationRow.category, ConversationRow.urgency,
     ConversationRow.confidence, ConversationRow.flags, ConversationRow.ticket_id, ConversationRow.message_key,
     ConversationRow.message_count, ConversationRow.ticket_status, ConversationRow.sla_started_at,
     ConversationRow.last_customer_at, ConversationRow.latest_at),
    _conversation_item, lambda row: row[15],
    (ConversationRow.subject, ConversationRow.sender_email, ConversationRow.sender_name),
)


_CONVERSATION_FIELDS = tuple(column.name for column in CONVERSATIONS.columns)


def view_of(filter: QueueFilter) -> _View:
    """Conversations, or messages when the filter asks for the message view."""
    return MESSAGES if filter.messages else CONVERSATIONS


def urgency_rank(urgency: str) -> int:
    """The sort rank of an urgency name (critical first); unknown names sort as normal."""
    return URGENCY_RANKS.get(urgency.lower(), URGENCY_RANKS["normal"])


def cursor_of(item: QueueItem) -> QueueCursor:
    """The keyset position of a queue item."""
    rank = item.sort_rank if item.sort_rank is not None else urgency_rank(item.urgency)
    received = item.sort_received_at
    if received is None:
        received = item.received_at.timestamp()
    return QueueCursor(urgency_rank=rank, received_at=received, key=item.key)


def queue_window(
    filter: QueueFilter,
    *,
    after: QueueCursor | None = None,
    before: QueueCursor | None = None,
    limit: int = 50,
    now: float | None = None,
) -> list[QueueItem]:
    """Up to `limit` queue items in display order: from the start, after a cursor, or just before it."""
    if after is not None and before is not None:
        raise ValueError("pass after or before, not both")
    limit = max(0, min(limit, MAX_LIMIT))
    if limit == 0:
        return []
    now = time.time() if now is None else now
    view = view_of(filter)
    model = view.model
    backward = before is not None
    cursor = before if backward else after
    # Merge the scans on their keyset columns alone (read from the index), then read the rows shown.
    parts = [list(query.select(model.id, model.urgency_rank, view.at).limit(limit).tuples())
             for query in _scans(filter, now, cursor, backward)]
    positions = list(_take(heapq.merge(*parts, key=_sort_key, reverse=backward), limit))
    if backward:
        positions.reverse()
    # The keys are integers read a moment ago: one literal list, not hundreds of bound parameters.
    keys = SQL("(" + ", ".join(str(int(p[0])) for p in positions) + ")")
    full = {row[0]: row for row in model.select(*view.columns).where(model.id.in_(keys)).tuples()} \
        if positions else {}
    # Each row keeps the position it was merged at, so a cursor made from it never skips or repeats.
    rows = [(key, rank, at, *full[key][3:]) for key, rank, at in positions if key in full]
    holders = lease_holders([k for k in (view.lease_key(row) for row in rows) if k], now=now)
    return [view.to_item(row, holders) for row in rows]


def queue_count(filter: QueueFilter, *, cap: int = 10_000, now: float | None = None) -> int:
    """How many rows match, exact up to `cap` (show "cap+" when it returns cap)."""
    now = time.time() if now is None else now
    view = view_of(filter)
    total = 0
    for query in _scans(filter, now, None, False):
        if total >= cap:
            break
        capped = query.select(view.model._meta.primary_key).order_by().limit(cap - total)
        total += capped.count()
    return min(total, cap)


def header_stats(*, now: float | None = None, cap: int = 10_000) -> HeaderStats:
    """Conversations waiting on us, the oldest of them, sends waiting, inbound per minute, quarantined."""
    now = time.time() if now is None else now
    depth = queue_count(QueueFilter(), cap=cap, now=now)
    from triage_tui.store.outbox import failure_summary

    send_failures, latest_failure = failure_summary()
    return HeaderStats(
        send_failures=send_failures,
        latest_failure=latest_failure,
        queue_depth=depth,
        queue_depth_capped=depth >= cap,
        oldest_unhandled_at=from_epoch(_oldest_open(now)),
        sends_waiting=_sends_waiting(),
        inbound_per_minute=inbound_per_minute(now=now),
        quarantined=queue_count(QueueFilter(states=[MessageState.QUARANTINED], messages=True), cap=cap, now=now),
    )


def inbound_per_minute(*, now: float | None = None, minutes: int = SPARK_MINUTES) -> list[int]:
    """Messages received in each of the last `minutes` minutes, oldest first."""
    now = time.time() if now is None else now
    start = now - minutes * 60
    buckets = [0] * minutes
    ranks = list(URGENCY_RANKS.values())
    query = MessageRow.select(MessageRow.received_at).where(
        MessageRow.urgency_rank.in_(ranks), MessageRow.received_at >= start, MessageRow.received_at < now
    )
    for (received,) in query.tuples():
        buckets[min(minutes - 1, int((received - start) // 60))] += 1
    return buckets


def queue_version(*, now: float | None = None) -> tuple:
    """A cheap token that changes whenever what the queue shows may have changed."""
    now = time.time() if now is None else now
    newest_message = MessageRow.select(fn.MAX(MessageRow.id)).scalar() or 0
    newest_audit = AuditRow.select(fn.MAX(AuditRow.id)).scalar() or 0
    lease_count, lease_newest = ReviewLease.select(
        fn.COUNT(ReviewLease.id), fn.MAX(ReviewLease.expires_at)
    ).tuples().get()
    woken = sum(
        model.select(model.id).where(model.state == MessageState.SNOOZED.value, model.snooze_until <= now).count()
        for model in (MessageRow, ConversationRow)
    )
    outbox_changed = OutboxRow.select(fn.MAX(OutboxRow.updated_at)).scalar() or 0.0
    return (newest_message, newest_audit, lease_count, lease_newest or 0.0, woken, outbox_changed)


def _scans(filter: QueueFilter, now: float, cursor: QueueCursor | None, backward: bool):
    """One ordered, bounded, index-range query per (state or status, urgency) the filter asks for."""
    view = view_of(filter)
    model = view.model
    ranks: list[tuple[int, str] | None] = [None]
    if filter.urgencies:
        ranks = sorted({(urgency_rank(u), u) for u in filter.urgencies})
    residual = _residual(filter, view)
    for lead in _leads(filter, view, now):
        for rank in ranks:
            conditions = [*lead, *residual]
            order = (model.urgency_rank, view.at, model.id)
            if rank is not None:
                conditions += [model.urgency_rank == rank[0], model.urgency == rank[1]]
                order = order[1:]
            if cursor is not None:
                bound = _keyset_bound(view, cursor, rank[0] if rank else None, backward)
                if bound is False:
                    continue
                if bound is not None:
                    conditions.append(bound)
            if backward:
                order = tuple(column.desc() for column in order)
            yield model.select(*view.columns).where(*conditions).order_by(*order)


def _leads(filter: QueueFilter, view: _View, now: float) -> list[list]:
    """The equality on the index's first column (state, or ticket status) of each scan, plus its extras."""
    model = view.model
    if filter.statuses:
        extra = [model.state.in_(list(filter.states))] if filter.states else []
        return [[model.ticket_status == status, *extra] for status in filter.statuses]
    if filter.states:
        return [[model.state == str(state)] for state in filter.states]
    woken = model.snooze_until <= now
    return [[model.state == state] for state in view.open_states] + [
        [model.state == MessageState.SNOOZED.value, woken]]


def _keyset_bound(view: _View, cursor: QueueCursor, rank: int | None, backward: bool):
    """The range condition past the cursor; None when every row qualifies, False when none does."""
    model = view.model
    if rank is None:
        position = Tuple(model.urgency_rank, view.at, model.id)
        mark = Tuple(cursor.urgency_rank, cursor.received_at, cursor.key)
        return position < mark if backward else position > mark
    if rank != cursor.urgency_rank:
        return None if (rank < cursor.urgency_rank) == backward else False
    position = Tuple(view.at, model.id)
    mark = Tuple(cursor.received_at, cursor.key)
    return position < mark if backward else position > mark


def _residual(filter: QueueFilter, view: _View) -> list:
    model = view.model
    conditions = []
    if filter.categories:
        conditions.append(model.category.in_(filter.categories))
    if filter.senders:
        conditions.append(_any(model.sender_email.contains(s) for s in filter.senders))
    for word in filter.words:
        conditions.append(_any(column.contains(word) for column in view.searched))
    return conditions


def _any(expressions: Iterable):
    combined = None
    for expression in expressions:
        combined = expression if combined is None else combined | expression
    return combined


def _sort_key(row: tuple) -> tuple[int, float, int]:
    return (row[1], row[2], row[0])


def _take(rows: Iterable, limit: int):
    for index, row in enumerate(rows):
        if index >= limit:
            return
        yield row


def state_of(value: str) -> MessageState:
    """A stored message state as the enum; an unknown value reads as needing a human."""
    try:
        return MessageState(value)
    except ValueError:
        return MessageState.NEEDS_HUMAN


def _oldest_open(now: float) -> float | None:
    """When the longest-waiting conversation in the open queue started waiting."""
    oldest: list[float] = []
    for state in OPEN_CONVERSATION_STATES:
        for rank in URGENCY_RANKS.values():
            value = (
                ConversationRow.select(fn.MIN(ConversationRow.sort_at))
                .where(ConversationRow.state == state.value, ConversationRow.urgency_rank == rank)
                .scalar()
            )
            if value is not None:
                oldest.append(value)
    woken = (
        ConversationRow.select(fn.MIN(ConversationRow.sort_at))
        .where(ConversationRow.state == ConversationState.SNOOZED.value, ConversationRow.snooze_until <= now)
        .scalar()
    )
    if woken is not None:
        oldest.append(woken)
    return min(oldest) if oldest else None


def _sends_waiting() -> int:
    try:
        from triage_tui.store.outbox import count_waiting
    except ImportError:
        return OutboxRow.select().where(OutboxRow.state.in_(WAITING_SEND_STATES)).count()
    return count_waiting()
