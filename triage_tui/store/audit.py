"""The audit trail: append one row per side effect, read it back as domain events."""

from __future__ import annotations

from datetime import datetime
from typing import Iterator

from triage_tui.domain import AuditEvent
from triage_tui.store.models import AuditRow
from triage_tui.store.text import db_safe, dumps, from_epoch, loads, to_epoch


def record_audit(event: AuditEvent) -> int:
    """Append one audit row (call inside the transaction of the effect it records)."""
    return AuditRow.create(**audit_values(event)).id


def audit_values(event: AuditEvent) -> dict:
    """The column values of one audit row, for a single insert or a batch."""
    return dict(
        at=to_epoch(event.at),
        actor=db_safe(event.actor),
        action=event.action,
        tenant_id=event.tenant_id,
        environment=event.environment,
        agent_account_email=event.agent_account_email,
        grant_id=event.grant_id,
        workspace_id=event.workspace_id,
        policy_id=event.policy_id,
        rule_ids=dumps(event.rule_ids),
        message_id=event.message_id,
        thread_id=event.thread_id,
        ticket_id=event.ticket_id,
        decision_id=event.decision_id,
        event_id=event.event_id,
        dedupe_key=event.dedupe_key,
        webhook_trigger=event.webhook_trigger,
        webhook_received_at=to_epoch(event.webhook_received_at),
        classification_version=event.classification_version,
        command_result_id=event.command_result_id,
        detail=dumps(event.detail),
    )


def list_audit(
    *,
    since: datetime | None = None,
    action: str | None = None,
    text: str | None = None,
    before_id: int | None = None,
    limit: int = 200,
) -> list[tuple[int, AuditEvent]]:
    """The newest audit rows first, filtered; returns (row id, event) for keyset paging."""
    query = AuditRow.select().order_by(AuditRow.id.desc()).limit(limit)
    if since is not None:
        query = query.where(AuditRow.at >= to_epoch(since))
    if action:
        query = query.where(AuditRow.action.startswith(action))
    if before_id is not None:
        query = query.where(AuditRow.id < before_id)
    if text:
        like = f"%{text}%"
        query = query.where(
            AuditRow.message_id.contains(text)
            | AuditRow.thread_id.contains(text)
            | AuditRow.ticket_id.contains(text)
            | AuditRow.actor.contains(text)
            | AuditRow.detail ** like
        )
    return [(row.id, to_event(row)) for row in query]


def iter_audit(*, since: datetime | None = None, batch: int = 1000) -> Iterator[AuditEvent]:
    """Every audit row oldest first (for export), read in bounded batches."""
    last_id = 0
    while True:
        query = AuditRow.select().where(AuditRow.id > last_id).order_by(AuditRow.id).limit(batch)
        if since is not None:
            query = query.where(AuditRow.at >= to_epoch(since))
        rows = list(query)
        if not rows:
            return
        for row in rows:
            yield to_event(row)
        last_id = rows[-1].id


def to_event(row: AuditRow) -> AuditEvent:
    """An audit row as the domain type."""
    return AuditEvent(
        action=row.action,
        actor=row.actor,
        at=from_epoch(row.at),
        tenant_id=row.tenant_id,
        environment=row.environment,
        agent_account_email=row.agent_account_email,
        grant_id=row.grant_id,
        workspace_id=row.workspace_id,
        policy_id=row.policy_id,
        rule_ids=loads(row.rule_ids, []),
        message_id=row.message_id,
        thread_id=row.thread_id,
        ticket_id=row.ticket_id,
        decision_id=row.decision_id,
        event_id=row.event_id,
        dedupe_key=row.dedupe_key,
        webhook_trigger=row.webhook_trigger,
        webhook_received_at=from_epoch(row.webhook_received_at),
        classification_version=row.classification_version,
        command_result_id=row.command_result_id,
        detail=loads(row.detail, {}),
    )
