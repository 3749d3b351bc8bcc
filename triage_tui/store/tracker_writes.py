"""Queueing tracker writes: one row per create, comment or status change, inside the caller's transaction.

The tracker is chosen here from the config (the inbox's `tracker`, else the default) when the ticket is
created; later comments and status changes follow the ticket to the trackers its create went to.
Nothing in a message chooses the tracker, the project, the assignee or the labels.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

from triage_tui.config import Config
from triage_tui.domain import AuditEvent, Address, TicketFacts, TrackerOp, TrackerStatus
from triage_tui.store.audit import record_audit
from triage_tui.store.db import write_transaction
from triage_tui.store.models import TrackerLinkRow, TrackerWriteRow
from triage_tui.store.text import db_safe, dumps

LOCAL_KIND = "local"


def _audit(action: str, actor: str, now: float, *, ticket_id: str, grant_id: str = "", thread_id: str = "",
           message_id: str = "", decision_id: str = "", command_result_id: str = "", tenant_id: str = "",
           environment: str = "", **detail) -> None:
    record_audit(AuditEvent(
        action=action, actor=actor, at=datetime.fromtimestamp(now, tz=timezone.utc), tenant_id=tenant_id,
        environment=environment, grant_id=grant_id, thread_id=thread_id, message_id=message_id,
        ticket_id=ticket_id, decision_id=decision_id, command_result_id=command_result_id, detail=detail))


def inserted(result) -> bool:
    """Whether an INSERT ... ON CONFLICT DO NOTHING RETURNING added a row (the cursor is consumed)."""
    if result is None or isinstance(result, int):
        return result is not None
    return bool(list(result))


def link_back(config: Config, facts: TicketFacts) -> str:
    """The link back to the conversation: the configured template, else the ids as text."""
    template = config.tracking.link_template
    if template:
        return template.format(thread_id=facts.thread_id, grant_id=facts.grant_id, ticket_id=facts.ticket_id)
    return f"triage-tui ticket {facts.ticket_id} (grant {facts.grant_id}, thread {facts.thread_id})"


def _insert(config: Config, *, tracker: str, op: TrackerOp, dedupe: str, ticket_id: str, grant_id: str,
            thread_id: str, message_id: str, decision_id: str, payload: dict, actor: str, now: float) -> str:
    kind = config.tracker(tracker).kind
    crid = str(uuid.uuid4())
    added = TrackerWriteRow.insert(
        command_result_id=crid, dedupe_key=db_safe(dedupe)[:255], tracker=tracker, kind=kind, op=op.value,
        ticket_id=ticket_id, tenant_id=config.tenant_id, environment=config.environment, grant_id=grant_id,
        thread_id=thread_id, message_id=message_id, decision_id=decision_id, payload=dumps(payload),
        client_id=str(uuid.uuid4()), state="pending", created_by=db_safe(actor), created_at=now, updated_at=now,
    ).on_conflict_ignore().returning(TrackerWriteRow.id).execute()
    if not inserted(added):  # queued before (an approval or an ingest run repeated): the first row stands
        return TrackerWriteRow.get(TrackerWriteRow.dedupe_key == db_safe(dedupe)[:255]).command_result_id
    _audit("tracker.queued", actor, now, ticket_id=ticket_id, grant_id=grant_id, thread_id=thread_id,
           message_id=message_id, decision_id=decision_id, command_result_id=crid, tenant_id=config.tenant_id,
           environment=config.environment, tracker=tracker, kind=kind, op=op.value)
    return crid


def enqueue_create(config: Config, facts: TicketFacts, *, actor: str, decision_id: str = "",
                   now: float | None = None) -> str | None:
    """Queue the tracker item of a newly approved ticket; its command_result_id, or None for `local`.

    Call it inside the transaction that creates the ticket, so both commit or neither does. A `local`
    tracker links the ticket to itself at once (the store is the system of record). Idempotent per ticket.
    """
    now = time.time() if now is None else now
    tracker = config.tracker_name(facts.grant_id)
    kind = config.tracker(tracker).kind
    with write_transaction():
        if kind == LOCAL_KIND:
            added = TrackerLinkRow.insert(
                ticket_id=facts.ticket_id, tracker=tracker, kind=kind, external_id=facts.ticket_id,
                external_key=facts.ticket_id, url="", tenant_id=config.tenant_id, grant_id=facts.grant_id,
                thread_id=facts.thread_id, created_at=now).on_conflict_ignore().returning(TrackerLinkRow.id).execute()
            if inserted(added):
                _audit("tracker.linked", actor, now, ticket_id=facts.ticket_id, grant_id=facts.grant_id,
                       thread_id=facts.thread_id, decision_id=decision_id, tenant_id=config.tenant_id,
                       environment=config.environment, tracker=tracker, kind=kind, external_key=facts.ticket_id)
            return None
        payload = {**facts.model_dump(mode="json"), "link": link_back(config, facts)}
        return _insert(config, tracker=tracker, op=TrackerOp.CREATE, dedupe=f"{tracker}:create:{facts.ticket_id}",
                       ticket_id=facts.ticket_id, grant_id=facts.grant_id, thread_id=facts.thread_id,
                       message_id=facts.message_id, decision_id=decision_id, payload=payload, actor=actor, now=now)


def ticket_trackers(ticket_id: str) -> list[tuple[str, str, str]]:
    """(tracker, grant_id, thread_id) of every tracker this ticket's create was queued for."""
    query = (TrackerWriteRow.select(TrackerWriteRow.tracker, TrackerWriteRow.grant_id, TrackerWriteRow.thread_id)
             .where((TrackerWriteRow.ticket_id == ticket_id) & (TrackerWriteRow.op == TrackerOp.CREATE.value))
             .order_by(TrackerWriteRow.id))
    return [(row.tracker, row.grant_id, row.thread_id) for row in query]


def enqueue_comment(config: Config, *, ticket_id: str, source_id: str, author: str, text: str,
                    sender: Address | None = None, at: datetime | None = None, message_id: str = "",
                    actor: str, decision_id: str = "", now: float | None = None) -> list[str]:
    """Queue a comment on the ticket's tracker items: a later customer message or a reply we sent.

    `author` is "customer" (the text is untrusted and shown quoted) or "agent"; `source_id` names what
    the comment is (the message id, or the reply's command_result_id) so the same one is queued once.
    Call inside the transaction that stores the message or records the send. Returns the new ids
    (empty when the ticket has no external tracker).
    """
    if author not in ("customer", "agent"):
        raise ValueError("author must be 'customer' or 'agent'")
    now = time.time() if now is None else now
    payload = {"author": author, "text": text, "sender": (sender or Address(email="")).model_dump(mode="json"),
               "at": (at or datetime.fromtimestamp(now, tz=timezone.utc)).isoformat(), "source_id": source_id}
    with write_transaction():
        return [
            _insert(config, tracker=tracker, op=TrackerOp.COMMENT, dedupe=f"{tracker}:comment:{ticket_id}:{source_id}",
                    ticket_id=ticket_id, grant_id=grant_id, thread_id=thread_id, message_id=message_id,
                    decision_id=decision_id, payload=payload, actor=actor, now=now)
            for tracker, grant_id, thread_id in ticket_trackers(ticket_id)
        ]


def enqueue_status(config: Config, *, ticket_id: str, status: TrackerStatus | str, source_id: str,
                   actor: str, reason: str = "", decision_id: str = "", now: float | None = None) -> list[str]:
    """Queue a status change (solved, reopened) on the ticket's tracker items; inside the caller's transaction.

    `source_id` names the event that changed the status (a decision id, the reopening message id).
    """
    status = TrackerStatus(status)
    now = time.time() if now is None else now
    payload = {"status": status.value, "reason": reason, "source_id": source_id}
    with write_transaction():
        return [
            _insert(config, tracker=tracker, op=TrackerOp.STATUS, dedupe=f"{tracker}:status:{ticket_id}:{source_id}",
                    ticket_id=ticket_id, grant_id=grant_id, thread_id=thread_id, message_id="",
                    decision_id=decision_id, payload=payload, actor=actor, now=now)
            for tracker, grant_id, thread_id in ticket_trackers(ticket_id)
        ]
