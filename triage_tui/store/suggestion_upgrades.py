"""Provisional suggestions: made at ingest by the chain's quick members, upgraded by the whole chain.

An upgrade touches only mail nobody has triaged or opened yet: a message a person decided on,
or is looking at under a review lease, keeps the suggestion that person saw.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from triage_tui.domain import ConversationState, InboundMessage, MessageState, Suggestion
from triage_tui.store import conversations
from triage_tui.store.db import is_sqlite, write_transaction
from triage_tui.store.decision_rows import audit_decision
from triage_tui.store.models import ConversationRow, MessageBody, MessageRow, ReviewLease, SuggestionRow, database
from triage_tui.store.transient import is_database_error
from triage_tui.store.queue import urgency_rank
from triage_tui.store.text import dumps
from triage_tui.store.threads import to_inbound

ACTOR = "classifier"
UNTRIAGED = (MessageState.NEW.value, MessageState.NEEDS_HUMAN.value)
UPGRADE_LOCK_ID = 7_331_002  # PostgreSQL advisory lock: one worker upgrades at a time


@contextlib.contextmanager
def upgrade_turn() -> Iterator[bool]:
    """True when this process may upgrade now: on PostgreSQL no other worker is (it would redo the
    same batch and lose the race to store it); a SQLite store has one worker."""
    if is_sqlite():
        yield True
        return
    got = bool(database.execute_sql("SELECT pg_try_advisory_lock(%s)", (UPGRADE_LOCK_ID,)).fetchone()[0])
    try:
        yield got
    finally:
        if got:
            try:
                database.execute_sql("SELECT pg_advisory_unlock(%s)", (UPGRADE_LOCK_ID,))
            except Exception as exc:  # a lost connection took the lock with it
                if not is_database_error(exc):
                    raise


@dataclass(frozen=True)
class Provisional:
    """An untriaged message whose suggestion came from the quick classifiers."""

    key: int
    message: InboundMessage
    category: str
    confidence: float
    classification_version: str


def provisional(limit: int, now: float) -> list[Provisional]:
    """Up to `limit` messages with a provisional suggestion that nobody is reviewing, oldest first
    (mail triaged meanwhile is among them: `upgrade` makes its suggestion final, unchanged)."""
    reviewed = ReviewLease.select(ReviewLease.message).where(ReviewLease.expires_at > now)
    rows = list(
        MessageRow.select(MessageRow)
        .join(SuggestionRow, on=(SuggestionRow.message == MessageRow.id))
        .where((SuggestionRow.provisional == True) & MessageRow.id.not_in(reviewed))  # noqa: E712
        .order_by(MessageRow.id)
        .limit(limit)
    )
    bodies = {b.message_id: b for b in MessageBody.select().where(MessageBody.message.in_([r.id for r in rows]))}
    return [Provisional(row.id, to_inbound(row, bodies.get(row.id)), row.category, row.confidence,
                        row.classification_version) for row in rows]


def upgrade(items: list[tuple[Provisional, Suggestion]], now: float) -> int:
    """Store the whole chain's suggestions in one transaction; returns how many messages changed.

    A message triaged or opened since it was read keeps its suggestion (which becomes final); one
    another worker upgraded meanwhile is left as that worker wrote it.
    """
    if not items:
        return 0
    changed: list[int] = []
    with write_transaction():
        reviewed = {k for (k,) in ReviewLease.select(ReviewLease.message)
                    .where(ReviewLease.message.in_([p.key for p, _ in items]) & (ReviewLease.expires_at > now))
                    .tuples()}
        for item, suggestion in sorted(items, key=lambda pair: pair[0].key):
            mine = SuggestionRow.update(provisional=False).where(
                (SuggestionRow.message == item.key) & (SuggestionRow.provisional == True)).execute()  # noqa: E712
            updated = 0
            if mine and item.key not in reviewed:
                state = MessageState.NEEDS_HUMAN if suggestion.needs_human else MessageState.NEW
                updated = MessageRow.update(
                    category=suggestion.category, urgency=suggestion.urgency,
                    urgency_rank=urgency_rank(suggestion.urgency), confidence=suggestion.confidence,
                    classification_version=suggestion.classification_version, state=state.value, updated_at=now,
                ).where((MessageRow.id == item.key) & MessageRow.state.in_(UNTRIAGED)).execute()
            if updated:
                changed.append(item.key)
                SuggestionRow.update(
                    category=suggestion.category, urgency=suggestion.urgency, confidence=suggestion.confidence,
                    reasons=dumps(suggestion.reasons), classification_version=suggestion.classification_version,
                    needs_human=suggestion.needs_human,
                ).where(SuggestionRow.message == item.key).execute()
        if changed:
            _follow_conversations(changed, now)
            _audit(changed, {p.key: p for p, _ in items}, now)
    return len(changed)


def _follow_conversations(keys: list[int], now: float) -> None:
    """Untriaged conversations show (and are in the state of) their latest customer message."""
    ids = sorted({cid for (cid,) in MessageRow.select(MessageRow.conversation_id)
                  .where(MessageRow.id.in_(keys) & MessageRow.conversation_id.is_null(False)).tuples()})
    if not ids:
        return
    conversations.derive(ids, now)
    untriaged = (ConversationState.NEW.value, ConversationState.NEEDS_HUMAN.value)
    latest = (ConversationRow.select(ConversationRow.id, MessageRow.state)
              .join(MessageRow, on=(MessageRow.id == ConversationRow.message_key))
              .where(ConversationRow.id.in_(ids) & ConversationRow.state.in_(untriaged)
                     & MessageRow.state.in_(UNTRIAGED)).tuples())
    for conversation_id, state in list(latest):
        ConversationRow.update(state=state, updated_at=now).where(ConversationRow.id == conversation_id).execute()


def _audit(keys: list[int], before: dict[int, Provisional], now: float) -> None:
    for row in MessageRow.select().where(MessageRow.id.in_(keys)):
        old = before[row.id]
        audit_decision(row, "classify.upgraded", None, now, {
            "category": row.category, "confidence": round(row.confidence, 4), "state": row.state,
            "was": {"category": old.category, "confidence": round(old.confidence, 4),
                    "classification_version": old.classification_version}}, actor=ACTOR)
