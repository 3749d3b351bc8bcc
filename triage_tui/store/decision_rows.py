"""Decision and ticket rows: writing a decision, its audit row, and reading both back as domain types."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from triage_tui.domain import AuditEvent, Decision, DecisionKind, Ticket
from triage_tui.store.audit import record_audit
from triage_tui.store.models import DecisionRow, MessageRow, TicketRow
from triage_tui.store.text import db_safe, from_epoch, loads


class DecisionError(ValueError):
    """A decision that cannot be recorded; the message says why in one line."""


def new_command_result_id() -> str:
    """A fresh id tying one side effect to its audit row (and, for sends and tracker writes, the key)."""
    return str(uuid.uuid4())


def write_decision(row: MessageRow, kind: DecisionKind, actor: str, at: float, *, category: str = "",
                   urgency: str = "", reason: str = "", ticket_id: str = "", snooze_until: float | None = None,
                   command_result_id: str = "") -> Decision:
    """Insert one decision about a message (inside the caller's transaction)."""
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
        command_result_id=command_result_id,
    )
    return to_decision(decision_row)


def audit_decision(row: MessageRow, action: str, decision: Decision | None, at: float, detail: dict, *,
                   actor: str = "", ticket_id: str = "", command_result_id: str = "") -> None:
    """One audit row about a message's decision or ticket, carrying every id of the data contract."""
    base = {}
    if decision is not None:
        base = {"kind": decision.kind.value, "category": decision.category, "urgency": decision.urgency}
    record_audit(
        AuditEvent(
            action=action,
            actor=decision.actor if decision is not None else actor,
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
            ticket_id=ticket_id or (decision.ticket_id if decision is not None else ""),
            decision_id=decision.decision_id if decision is not None else "",
            event_id=row.event_id,
            dedupe_key=row.dedupe_key,
            webhook_trigger=row.webhook_trigger,
            webhook_received_at=from_epoch(row.webhook_received_at),
            classification_version=row.classification_version,
            command_result_id=command_result_id,
            detail={**base, **detail},
        )
    )


def to_decision(row: DecisionRow) -> Decision:
    """A decision row as the domain type."""
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


def to_ticket(row: TicketRow) -> Ticket:
    """A ticket row as the domain type."""
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
