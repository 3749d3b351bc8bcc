"""Ingest writes: one message with its body, thread, suggestion, ticket link and audit, exactly once."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from triage_tui.domain import (
    AuditEvent,
    InboundMessage,
    MailKind,
    MailSignals,
    MessageState,
    RuleEvaluation,
    Suggestion,
    ThreadInfo,
)
from triage_tui.store import conversations
from triage_tui.store.arrivals import apply_arrivals
from triage_tui.store.audit import record_audit
from triage_tui.store.bounces import link_bounces
from triage_tui.store.db import write_transaction
from triage_tui.store.models import (
    AuditRow,
    MessageBody,
    MessageRow,
    SuggestionRow,
    ThreadRow,
)
from triage_tui.store.message_rows import (
    ACTOR,
    MAX_BODY_HTML,
    MAX_BODY_TEXT,
    MAX_SUBJECT,
    RowPlan,
    cut,
    tickets_of_threads,
    upsert_threads,
)
from triage_tui.store.queue import urgency_rank
from triage_tui.store.text import db_safe, dumps

QUARANTINE_URGENCY = "normal"


@dataclass(frozen=True)
class InboxScope:
    """Who a message belongs to, always taken from config (never from mail)."""

    tenant_id: str
    environment: str
    grant_id: str
    agent_account_email: str = ""
    workspace_id: str = ""
    policy_id: str = ""


@dataclass
class PreparedMessage:
    """A normalised message with everything computed outside the write transaction."""

    message: InboundMessage
    signals: MailSignals
    suggestion: Suggestion | None
    trigger: str
    evaluation: RuleEvaluation | None = None
    thread: ThreadInfo | None = None
    event_id: str = ""
    webhook_received_at: float | None = None

    @property
    def flags(self) -> list[str]:
        """The flags the console shows beside the message."""
        s = self.signals
        names = ["auto_reply", "bounce", "mailing_list", "own_outbound", "loop_suspected",
                 "reply_to_differs"]
        out = [name for name in names if getattr(s, name)]
        if s.automated:
            out.insert(0, "automated")
        if s.hidden_characters:
            out.append("hidden_characters")
        if self.message.truncated or len(self.message.body_text) > MAX_BODY_TEXT \
                or len(self.message.body_html) > MAX_BODY_HTML:
            out.append("truncated")
        return out


@dataclass
class BatchResult:
    """What one batch write did."""

    stored: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    linked: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    suggested: list[str] = field(default_factory=list)
    ticket_changes: list = field(default_factory=list)  # TicketChange of each ticket a customer moved


def existing_message_ids(grant_id: str, message_ids: list[str]) -> set[str]:
    """The ids among `message_ids` already stored for this grant."""
    found: set[str] = set()
    ids = [cut(m) for m in message_ids]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = MessageRow.select(MessageRow.message_id).where(
            (MessageRow.grant_id == grant_id) & (MessageRow.message_id.in_(chunk))
        )
        found.update(row.message_id for row in query)
    return found


def known_thread_ids(grant_id: str, thread_ids: list[str]) -> set[str]:
    """The thread ids among `thread_ids` already stored for this grant."""
    ids = [cut(t) for t in thread_ids if t]
    if not ids:
        return set()
    query = ThreadRow.select(ThreadRow.thread_id).where(
        (ThreadRow.grant_id == grant_id) & (ThreadRow.thread_id.in_(ids))
    )
    return {row.thread_id for row in query}


def store_batch(scope: InboxScope, batch: list[PreparedMessage], *, now: float | None = None) -> BatchResult:
    """Write a batch in one write transaction; a message already stored is audited as a duplicate."""
    now = time.time() if now is None else now
    result = BatchResult()
    with write_transaction():
        for start in range(0, len(batch), CHUNK):
            _store_chunk(scope, batch[start : start + CHUNK], now, result)
    return result


CHUNK = 100


def _store_chunk(scope: InboxScope, batch: list[PreparedMessage], now: float, result: BatchResult) -> None:
    thread_ids = sorted({cut(i.message.thread_id) for i in batch if i.message.thread_id})
    tickets = tickets_of_threads(scope.grant_id, thread_ids)
    plans: dict[str, RowPlan] = {}
    first_with: dict[str, str] = {}  # Message-ID -> the message id of its first copy in this batch
    duplicates: list[RowPlan] = []
    for item in batch:
        plan = RowPlan.of(scope, item, tickets)
        if plan.message_id in plans or (plan.rfc_message_id and plan.rfc_message_id in first_with):
            duplicates.append(plan)
        else:
            plans[plan.message_id] = plan
            if plan.rfc_message_id:
                first_with[plan.rfc_message_id] = plan.message_id
    link_bounces(scope.grant_id, scope.agent_account_email, list(plans.values()))
    rows = conversations.ensure(scope.tenant_id, scope.environment, scope.grant_id,
                                [p.conversation_key for p in plans.values()], now)
    for plan in plans.values():
        plan.conversation_id = rows[plan.conversation_key].id
    # A copy whose API id or Message-ID is already stored is ignored by the unique indexes.
    inserted = (
        MessageRow.insert_many([p.row(scope, now) for p in plans.values()])
        .on_conflict_ignore()
        .returning(MessageRow.id, MessageRow.message_id)
        .tuples()
        .execute()
    )
    id_of = {message_id: row_id for row_id, message_id in inserted}
    duplicates.extend(p for mid, p in plans.items() if mid not in id_of)
    fresh = [p for mid, p in plans.items() if mid in id_of]
    originals = _originals(scope.grant_id, duplicates, first_with)
    audits = [p.audit(scope, "ingest.duplicate", now, {"count": 1, "trigger": p.item.trigger,
                                                        **originals.get(id(p), {})}) for p in duplicates]
    result.duplicates.extend(p.item.message.message_id for p in duplicates)
    if fresh:
        MessageBody.insert_many([p.body(id_of[p.message_id]) for p in fresh]).execute()
        suggestions = [p.suggestion_row(id_of[p.message_id], now) for p in fresh if p.suggestion]
        if suggestions:
            SuggestionRow.insert_many(suggestions).on_conflict_ignore().execute()
        upsert_threads(scope.grant_id, [p for p in fresh if p.thread_id], now)
    result.ticket_changes.extend(apply_arrivals(fresh, id_of, rows, now))
    for plan in fresh:
        msg_id = plan.item.message.message_id
        result.stored.append(msg_id)
        if plan.suggestion:
            result.suggested.append(msg_id)
        if plan.ticket_id:
            result.linked.append(msg_id)
        if plan.item.signals.automated:
            result.flagged.append(msg_id)
        audits.append(plan.audit(scope, "ingest.stored", now, {
            "state": plan.state, "kind": plan.kind, "flags": plan.flags,
            "reasons": plan.item.signals.reasons[:10],
            "category": plan.suggestion.category if plan.suggestion else "",
            **({"bounce_of": plan.bounce_of} if plan.bounce_of else {}),
        }))
    if audits:
        AuditRow.insert_many(audits).execute()


def _originals(grant_id: str, duplicates: list[RowPlan], first_with: dict[str, str]) -> dict[int, dict]:
    """For each absorbed copy: whether its API id or its Message-ID was known, and the stored original."""
    if not duplicates:
        return {}
    known = existing_message_ids(grant_id, [p.message_id for p in duplicates])
    wanted = [p.rfc_message_id for p in duplicates if p.rfc_message_id and p.message_id not in known]
    stored: dict[str, str] = {}
    if wanted:
        query = MessageRow.select(MessageRow.rfc_message_id, MessageRow.message_id).where(
            (MessageRow.grant_id == grant_id) & MessageRow.rfc_message_id.in_(wanted))
        stored = dict(query.tuples())
    found: dict[int, dict] = {}
    for plan in duplicates:
        if plan.message_id in known or not plan.rfc_message_id:
            continue
        original = stored.get(plan.rfc_message_id) or first_with.get(plan.rfc_message_id, "")
        if original and original != plan.message_id:
            found[id(plan)] = {"by": "rfc_message_id", "rfc_message_id": plan.rfc_message_id,
                               "duplicate_of": original}
    return found


def quarantine_message(scope: InboxScope, message_id: str, reason: str, *, attempts: int,
                       trigger: str, event_id: str = "", subject: str = "", thread_id: str = "",
                       received_at: float | None = None, now: float | None = None) -> bool:
    """Keep a message that failed `attempts` times visible in state quarantined; False if stored."""
    now = time.time() if now is None else now
    with write_transaction():
        key = conversations.conversation_key(cut(thread_id), cut(message_id))
        conversation = conversations.ensure(scope.tenant_id, scope.environment, scope.grant_id, [key], now)[key]
        row_id = _returned_id(
            MessageRow.insert(
                tenant_id=scope.tenant_id, environment=scope.environment,
                agent_account_email=cut(scope.agent_account_email), grant_id=scope.grant_id,
                workspace_id=cut(scope.workspace_id), policy_id=cut(scope.policy_id),
                message_id=cut(message_id), thread_id=cut(thread_id),
                dedupe_key=cut(f"{scope.grant_id}:{message_id}"),
                subject=db_safe(subject)[:MAX_SUBJECT] or "(quarantined message)",
                received_at=received_at or now, state=MessageState.QUARANTINED.value,
                urgency=QUARANTINE_URGENCY, urgency_rank=urgency_rank(QUARANTINE_URGENCY),
                flags=dumps(["quarantined"]), webhook_trigger=cut(trigger),
                event_id=cut(event_id), attempts=attempts, last_error=db_safe(reason)[:2000],
                created_at=now, updated_at=now, kind=MailKind.QUARANTINED.value,
                conversation_id=conversation.id,
            ).on_conflict_ignore().returning(MessageRow.id).execute()
        )
        if row_id is not None:
            MessageBody.insert(message=row_id, truncated=False).execute()
            if conversation.message_count == 0:
                conversations.initial_states([conversation.id], now)
            else:
                conversations.derive([conversation.id], now)
        else:
            conversations.remove_empty([conversation.id])
        record_audit(AuditEvent(
            action="ingest.quarantined" if row_id is not None else "ingest.duplicate",
            actor=ACTOR, at=_dt(now), tenant_id=scope.tenant_id, environment=scope.environment,
            agent_account_email=scope.agent_account_email, grant_id=scope.grant_id,
            workspace_id=scope.workspace_id, policy_id=scope.policy_id, message_id=message_id,
            thread_id=thread_id, event_id=event_id, webhook_trigger=trigger,
            dedupe_key=f"{scope.grant_id}:{message_id}",
            detail={"reason": reason[:500], "attempts": attempts},
        ))
    return row_id is not None


def _returned_id(value) -> int | None:
    """The id from an INSERT ... RETURNING, or None when the conflict was ignored."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    rows = list(value)
    if not rows:
        return None
    first = rows[0]
    if isinstance(first, (tuple, list)):
        return first[0]
    if isinstance(first, dict):
        return next(iter(first.values()), None)
    return getattr(first, "id", first)


def _dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=timezone.utc)


def message_count() -> int:
    """How many messages are stored."""
    return MessageRow.select().count()


__all__ = ["InboxScope", "PreparedMessage", "BatchResult", "store_batch", "existing_message_ids",
           "known_thread_ids", "quarantine_message", "message_count"]
