"""Delivery status of our sends, from the delivery-status webhooks, onto their outbox entries.

An event is matched to the entry by the command_result_id we put in the send's metadata (echoed
back by every delivery event) or by the sent message id the send returned, always within the
event's grant. Delivery is at least once and out of order, so the status is the worst one reported,
whatever the order of arrival: delivered < complaint < bounced < rejected < failed. A "delivered"
arriving after a "bounced" (another recipient, or a late copy) never hides the bounce. Every event
still leaves one audit row (`applied` says whether it changed the entry).
"""

from __future__ import annotations

from datetime import datetime, timezone

from peewee import fn

from triage_tui.domain import AuditEvent, DeliveryReport
from triage_tui.store.audit import record_audit
from triage_tui.store.db import is_sqlite, write_transaction
from triage_tui.store.models import OutboxRow
from triage_tui.store.text import db_safe

SEVERITY = {"": 0, "delivered": 1, "complaint": 2, "bounced": 3, "rejected": 4, "failed": 5}
APPLIED, KEPT, UNMATCHED = "applied", "kept", "unmatched"


def record_delivery(grant_id: str, report: DeliveryReport, *, event_id: str = "", trigger: str = "",
                    received_at: float | None = None, actor: str = "worker", now: float) -> str:
    """Apply one delivery event to its outbox entry: "applied", "kept" (a worse status stands) or "unmatched"."""
    match = None
    if report.command_result_id:
        match = OutboxRow.command_result_id == report.command_result_id
    if report.message_id:
        by_id = OutboxRow.sent_message_id == report.message_id
        match = by_id if match is None else match | by_id
    if match is None:
        return UNMATCHED
    with write_transaction():
        query = OutboxRow.select().where((OutboxRow.grant_id == grant_id) & match).order_by(OutboxRow.id).limit(1)
        row = (query if is_sqlite() else query.for_update()).first()
        if row is None:
            return UNMATCHED
        previous = row.delivery_status
        applied = SEVERITY[report.status] > SEVERITY.get(previous, 0)
        if applied:
            values = dict(delivery_status=report.status, delivery_detail=db_safe(report.detail),
                          delivery_at=report.at or now, updated_at=now)
            if not row.sent_message_id and report.message_id:
                values["sent_message_id"] = db_safe(report.message_id)[:255]
            OutboxRow.update(**values).where(OutboxRow.id == row.id).execute()
        record_audit(AuditEvent(
            action=f"outbox.{report.status}", actor=actor, at=datetime.fromtimestamp(now, tz=timezone.utc),
            tenant_id=row.tenant_id, environment=row.environment, grant_id=row.grant_id,
            message_id=row.sent_message_id or report.message_id[:255], thread_id=row.thread_id,
            ticket_id=row.ticket_id, decision_id=row.decision_id, command_result_id=row.command_result_id,
            event_id=event_id[:255], webhook_trigger=trigger[:255],
            webhook_received_at=datetime.fromtimestamp(received_at, tz=timezone.utc) if received_at else None,
            detail={"applied": applied, "previous": previous, "detail": report.detail,
                    "reply_to_message_id": row.reply_to_message_id, "reported_at": report.at},
        ))
    return APPLIED if applied else KEPT


def delivery_counts() -> dict[str, int]:
    """How many of our sends stand at each delivery status (for `status`)."""
    query = (OutboxRow.select(OutboxRow.delivery_status, fn.COUNT(OutboxRow.id).alias("n"))
             .where(OutboxRow.delivery_status != "").group_by(OutboxRow.delivery_status))
    return {row.delivery_status: row.n for row in query}


def delivery_of(grant_id: str, message_ids: list[str]) -> list[tuple[str, str, str, str]]:
    """Sends answering (or being) these messages that have a delivery status:
    (reply_to_message_id, sent_message_id, status, detail), oldest first."""
    if not message_ids:
        return []
    rows = OutboxRow.select(OutboxRow.reply_to_message_id, OutboxRow.sent_message_id, OutboxRow.delivery_status,
                            OutboxRow.delivery_detail).where(
        (OutboxRow.grant_id == grant_id) & (OutboxRow.delivery_status != "")
        & (OutboxRow.reply_to_message_id.in_(message_ids) | OutboxRow.sent_message_id.in_(message_ids)))
    return list(rows.order_by(OutboxRow.id).tuples())
