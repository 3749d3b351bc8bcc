"""Human decisions: each is one write transaction with the decision, its effect and an audit row."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

from triage_tui.config import Config
from triage_tui.domain import AuditEvent, Decision, DecisionKind, MessageState, Ticket
from triage_tui.store.audit import record_audit
from triage_tui.store.db import is_sqlite, write_transaction
from triage_tui.store.models import DecisionRow, MessageRow, ThreadRow, TicketRow
from triage_tui.store.queue import urgency_rank
from triage_tui.store.text import db_safe, from_epoch, loads, to_epoch

SPAM_CATEGORY = "spam"
# A ticket decision moves these along with the thread; replies already sent and poison stay put.
_KEEP_STATE_ON_TICKET = (MessageState.REPLIED.value, MessageState.QUARANTINED.value)
BATCH_KINDS = (
    DecisionKind.APPROVE_TICKET,
    DecisionKind.REJECT,
    DecisionKind.SNOOZE,
    DecisionKind.DISMISS_SPAM,
)


class DecisionError(ValueError):
    """A decision that cannot be recorded; the message says why in one line."""


def approve_ticket(
    key: int,
    *,
    actor: str,
    config: Config,
    category: str | None = None,
    urgency: str | None = None,
    now: float | datetime | None = None,
) -> Ticket:
    """Create the ticket of the message's thread, or link to the one it already has."""
    return _approve(key, actor, config, category, urgency, _epoch(now))[1]


def reject(key: int, *, actor: str, reason: str, config: Config, now=None) -> Decision:
    """Refuse the suggestion: no ticket; the reason is required unless the config says otherwise."""
    reason = _reason(reason, config)
    return _close(key, actor, config, DecisionKind.REJECT, _epoch(now), reason=reason)


def snooze(key: int, *, actor: str, until: datetime, config: Config, now=None) -> Decision:
    """Hide the message until `until`; it comes back into the open queue after that."""
    at = _epoch(now)
    until_epoch = _until(until, at)
    return _close(key, actor, config, DecisionKind.SNOOZE, at, until=until_epoch)


def dismiss_spam(key: int, *, actor: str, config: Config, now=None) -> Decision:
    """Dismiss the message as spam (a training label for the spam category)."""
    return _close(key, actor, config, DecisionKind.DISMISS_SPAM, _epoch(now))


def decide_batch(
    keys: list[int],
    kind: DecisionKind,
    *,
    actor: str,
    config: Config,
    reason: str = "",
    category: str | None = None,
    urgency: str | None = None,
    until: datetime | None = None,
    now=None,
) -> list[Decision]:
    """The same decision on many messages (one transaction each); checked before anything is written."""
    kind = DecisionKind(kind)
    if kind not in BATCH_KINDS:
        raise DecisionError(f"{kind.value} cannot be decided in a batch")
    at = _epoch(now)
    keys = list(dict.fromkeys(keys))
    if kind is DecisionKind.REJECT:
        reason = _reason(reason, config)
    if kind is DecisionKind.SNOOZE:
        if until is None:
            raise DecisionError("a snooze needs an until time")
        until_epoch = _until(until, at)
    if kind is DecisionKind.APPROVE_TICKET:
        _check_choice(category, config.classifier.categories, "category")
        _check_choice(urgency, config.classifier.urgencies, "urgency")
    found = {k for (k,) in MessageRow.select(MessageRow.id).where(MessageRow.id.in_(keys)).tuples()}
    missing = [k for k in keys if k not in found]
    if missing:
        raise DecisionError(f"{len(missing)} marked message(s) no longer exist: {missing[:5]}")
    decisions = []
    for key in keys:
        if kind is DecisionKind.APPROVE_TICKET:
            decisions.append(_approve(key, actor, config, category, urgency, at)[0])
        elif kind is DecisionKind.SNOOZE:
            decisions.append(_close(key, actor, config, kind, at, until=until_epoch))
        else:
            decisions.append(_close(key, actor, config, kind, at, reason=reason))
    return decisions


def decisions_for(grant_id: str, message_id: str) -> list[Decision]:
    """Every decision recorded about one message, oldest first."""
    query = (
        DecisionRow.select()
        .where(DecisionRow.grant_id == grant_id, DecisionRow.message_id == message_id)
        .order_by(DecisionRow.decided_at, DecisionRow.id)
    )
    return [_decision(row) for row in query]


def _approve(key, actor, config, category, urgency, at) -> tuple[Decision, Ticket]:
    actor = _actor(actor)
    _check_choice(category, config.classifier.categories, "category")
    _check_choice(urgency, config.classifier.urgencies, "urgency")
    with write_transaction():
        row = _lock_thread(_message(key, config))
        final_category = category or row.category
        if not final_category:
            raise DecisionError("choose a category before approving the ticket")
        final_urgency = urgency or row.urgency or "normal"
        thread_key = row.thread_id or row.message_id
        new_ticket_id = f"TKT-{uuid.uuid4().hex[:12].upper()}"
        TicketRow.insert(
            ticket_id=new_ticket_id,
            tenant_id=row.tenant_id,
            environment=row.environment,
            grant_id=row.grant_id,
            thread_id=thread_key,
            category=final_category,
            urgency=final_urgency,
            created_at=at,
            created_by=actor,
        ).on_conflict_ignore().execute()
        ticket_row = TicketRow.get(TicketRow.grant_id == row.grant_id, TicketRow.thread_id == thread_key)
        created = ticket_row.ticket_id == new_ticket_id
        decision = _write_decision(
            row, DecisionKind.APPROVE_TICKET, actor, at,
            category=final_category, urgency=final_urgency, ticket_id=ticket_row.ticket_id,
        )
        if created:
            TicketRow.update(decision_id=decision.decision_id).where(TicketRow.id == ticket_row.id).execute()
        MessageRow.update(
            state=MessageState.TICKET.value, ticket_id=ticket_row.ticket_id, category=final_category,
            urgency=final_urgency, urgency_rank=urgency_rank(final_urgency), snooze_until=None,
            updated_at=at,
        ).where(MessageRow.id == row.id).execute()
        linked = _link_thread(row, ticket_row.ticket_id, at)
        detail = {
            "ticket_created": created,
            "suggested_category": row.category,
            "suggested_urgency": row.urgency,
            "edited": final_category != row.category or final_urgency != row.urgency,
            "thread_messages_linked": linked,
        }
        _audit(row, "decision.approve_ticket", decision, at, detail)
        if created:
            _audit(row, "ticket.create", decision, at, {"category": final_category, "urgency": final_urgency})
    return decision, _ticket(TicketRow.get_by_id(ticket_row.id))


def _close(key, actor, config, kind: DecisionKind, at: float, *, reason: str = "",
           until: float | None = None) -> Decision:
    """Reject, snooze or dismiss: the message leaves the open queue (a snooze only for a while)."""
    actor = _actor(actor)
    with write_transaction():
        row = _message(key, config)
        values: dict = {"updated_at": at, "snooze_until": until}
        category = ""
        if kind is DecisionKind.SNOOZE:
            values["state"] = MessageState.SNOOZED.value
        else:
            values["state"] = MessageState.DISMISSED.value
        if kind is DecisionKind.DISMISS_SPAM:
            category = SPAM_CATEGORY
            values["category"] = SPAM_CATEGORY
        decision = _write_decision(row, kind, actor, at, category=category, reason=reason,
                                   snooze_until=until, ticket_id=row.ticket_id)
        MessageRow.update(**values).where(MessageRow.id == row.id).execute()
        detail = {"previous_state": row.state, "reason": reason}
        if until is not None:
            detail["snooze_until"] = from_epoch(until).isoformat()
        _audit(row, f"decision.{kind.value}", decision, at, detail)
    return decision


def _lock_thread(row: MessageRow) -> MessageRow:
    """Lock the thread's rows in key order (PostgreSQL), so concurrent approvals cannot deadlock."""
    if is_sqlite() or not row.thread_id:
        return row
    list(
        MessageRow.select(MessageRow.id)
        .where(MessageRow.grant_id == row.grant_id, MessageRow.thread_id == row.thread_id)
        .order_by(MessageRow.id)
        .for_update()
    )
    return MessageRow.get_by_id(row.id)


def _link_thread(row: MessageRow, ticket_id: str, at: float) -> int:
    if not row.thread_id:
        return 0
    same_thread = (MessageRow.grant_id == row.grant_id) & (MessageRow.thread_id == row.thread_id)
    MessageRow.update(ticket_id=ticket_id, updated_at=at).where(
        same_thread, MessageRow.id != row.id
    ).execute()
    moved = MessageRow.update(
        state=MessageState.TICKET.value, snooze_until=None, updated_at=at
    ).where(
        same_thread, MessageRow.id != row.id, MessageRow.state.not_in(_KEEP_STATE_ON_TICKET)
    ).execute()
    ThreadRow.update(ticket_id=ticket_id, updated_at=at).where(
        ThreadRow.grant_id == row.grant_id, ThreadRow.thread_id == row.thread_id
    ).execute()
    return moved


def _write_decision(row: MessageRow, kind: DecisionKind, actor: str, at: float, *,
                    category: str = "", urgency: str = "", reason: str = "",
                    ticket_id: str = "", snooze_until: float | None = None) -> Decision:
    decision_row = DecisionRow.create(
        decision_id=f"dec-{uuid.uuid4().hex}",
        grant_id=row.grant_id,
        message_id=row.message_id,
        thread_id=row.thread_id,
        kind=kind.value,
        category=category,
        urgency=urgency,
        reason=db_safe(reason),
        actor=actor,
        decided_at=at,
        ticket_id=ticket_id,
        snooze_until=snooze_until,
    )
    return _decision(decision_row)


def _audit(row: MessageRow, action: str, decision: Decision, at: float, detail: dict) -> None:
    record_audit(
        AuditEvent(
            action=action,
            actor=decision.actor,
            at=datetime.fromtimestamp(at, tz=timezone.utc),
            tenant_id=row.tenant_id,
            environment=row.environment,
            agent_account_email=row.agent_account_email,
            grant_id=row.grant_id,
            workspace_id=row.workspace_id,
            policy_id=row.policy_id,
            rule_ids=[str(r) for r in loads(row.rule_ids, [])],
            message_id=row.message_id,
            thread_id=row.thread_id,
            ticket_id=decision.ticket_id,
            decision_id=decision.decision_id,
            event_id=row.event_id,
            dedupe_key=row.dedupe_key,
            webhook_trigger=row.webhook_trigger,
            webhook_received_at=from_epoch(row.webhook_received_at),
            classification_version=row.classification_version,
            detail={"kind": decision.kind.value, "category": decision.category,
                    "urgency": decision.urgency, **detail},
        )
    )


def _message(key: int, config: Config) -> MessageRow:
    row = MessageRow.get_or_none(MessageRow.id == key)
    if row is None:
        raise DecisionError(f"message {key} no longer exists")
    if config.inboxes and row.grant_id not in config.grant_ids:
        raise DecisionError(f"message {key} belongs to grant {row.grant_id}, which is not configured")
    return row


def _decision(row: DecisionRow) -> Decision:
    return Decision(
        decision_id=row.decision_id,
        grant_id=row.grant_id,
        message_id=row.message_id,
        thread_id=row.thread_id,
        kind=DecisionKind(row.kind),
        category=row.category,
        urgency=row.urgency,
        reason=row.reason,
        actor=row.actor,
        decided_at=from_epoch(row.decided_at),
        ticket_id=row.ticket_id,
        snooze_until=from_epoch(row.snooze_until),
    )


def _ticket(row: TicketRow) -> Ticket:
    return Ticket(
        ticket_id=row.ticket_id,
        tenant_id=row.tenant_id,
        environment=row.environment,
        grant_id=row.grant_id,
        thread_id=row.thread_id,
        category=row.category,
        urgency=row.urgency,
        created_at=from_epoch(row.created_at),
        created_by=row.created_by,
        status=row.status,
    )


def _reason(reason: str, config: Config) -> str:
    cleaned = db_safe(reason or "").strip()
    if config.outbound.reject_reason_required and not cleaned:
        raise DecisionError("a rejection needs a reason")
    return cleaned


def _until(until: datetime, at: float) -> float:
    if not isinstance(until, datetime):
        raise DecisionError("snooze until must be a date and time")
    until_epoch = to_epoch(until)
    if until_epoch <= at:
        raise DecisionError("snooze until must be in the future")
    return until_epoch


def _check_choice(value: str | None, allowed: list[str], what: str) -> None:
    if value is not None and value not in allowed:
        raise DecisionError(f"unknown {what} '{value}'; use one of: {', '.join(allowed)}")


def _actor(actor: str) -> str:
    cleaned = db_safe(actor or "").strip()
    if not cleaned:
        raise DecisionError("a decision needs the name of the person making it")
    return cleaned


def _epoch(now: float | datetime | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        return to_epoch(now)
    return float(now)
