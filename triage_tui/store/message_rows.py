"""The rows one ingested message becomes: the hot row, body, suggestion, audit, and thread merge."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from triage_tui.domain import AuditEvent, MailKind, MessageState, Suggestion
from triage_tui.store.audit import audit_values
from triage_tui.store.db import is_sqlite
from triage_tui.store.models import ThreadRow, TicketRow
from triage_tui.store.queue import urgency_rank
from triage_tui.store.text import db_safe, dumps, from_epoch, loads, to_epoch

if TYPE_CHECKING:
    from triage_tui.store.messages import InboxScope, PreparedMessage

# Automated mail (auto-replies, bounces, lists) gets no suggestion and sorts last.
AUTOMATED_URGENCY = "low"
MAX_BODY_TEXT = 512_000
MAX_BODY_HTML = 1_000_000
MAX_SUBJECT = 4_000
MAX_CHAR = 255
ACTOR = "ingest"


_RFC_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


def cut(value: str | None, limit: int = MAX_CHAR) -> str:
    """Db-safe text that fits a CharField on every engine."""
    return db_safe(value)[:limit]


def rfc_message_id(value: str | None) -> str | None:
    """The Message-ID a copy is recognised by, or None (no id, or one too odd to trust: never merged)."""
    text = db_safe(value or "").strip()
    if len(text) > MAX_CHAR or not _RFC_ID.fullmatch(text):
        return None
    return text


@dataclass
class RowPlan:
    """One message's rows, computed before any write."""

    item: PreparedMessage
    message_id: str
    thread_id: str
    ticket_id: str
    suggestion: Suggestion | None
    state: str
    flags: list[str]
    rule_ids: list[str]
    workspace_id: str
    policy_id: str
    kind: str
    rfc_message_id: str | None
    conversation_key: str
    conversation_id: int | None = None
    bounce_of: str = ""

    @classmethod
    def of(cls, scope: InboxScope, item: "PreparedMessage", tickets: dict[str, str]) -> "RowPlan":
        thread_id = cut(item.message.thread_id)
        kind = item.signals.kind.value
        # Only a customer's mail joins the thread's ticket; automated mail stays off it.
        ticket_id = tickets.get(thread_id, "") if thread_id and kind == MailKind.CUSTOMER.value else ""
        suggestion = None if item.signals.automated else item.suggestion
        evaluation = item.evaluation
        message_id = cut(item.message.message_id)
        return cls(
            item=item, message_id=message_id, thread_id=thread_id, ticket_id=ticket_id,
            suggestion=suggestion, state=_state(item, suggestion, ticket_id), flags=item.flags,
            rule_ids=list(evaluation.rule_ids) if evaluation else [],
            workspace_id=cut(scope.workspace_id or (evaluation.workspace_id if evaluation else "")),
            policy_id=cut(scope.policy_id or (evaluation.policy_id if evaluation else "")),
            kind=kind, rfc_message_id=rfc_message_id(item.message.internet_message_id),
            conversation_key=thread_id or message_id,
        )

    @property
    def received(self) -> float:
        """When the message arrived, in epoch seconds."""
        return to_epoch(self.item.message.received_at)

    def row(self, scope: InboxScope, now: float) -> dict:
        msg, s = self.item.message, self.suggestion
        urgency = s.urgency if s else AUTOMATED_URGENCY
        return dict(
            tenant_id=scope.tenant_id, environment=scope.environment,
            agent_account_email=cut(scope.agent_account_email), grant_id=scope.grant_id,
            workspace_id=self.workspace_id, policy_id=self.policy_id, rule_ids=dumps(self.rule_ids),
            message_id=self.message_id, thread_id=self.thread_id,
            folder_ids=dumps(msg.folder_ids), label_ids=dumps(msg.label_ids),
            dedupe_key=cut(f"{scope.grant_id}:{self.message_id}"),
            subject=db_safe(msg.subject)[:MAX_SUBJECT],
            sender_email=cut(msg.sender.email), sender_name=cut(msg.sender.name),
            received_at=to_epoch(msg.received_at), state=self.state,
            category=s.category if s else "", urgency=cut(urgency), urgency_rank=urgency_rank(urgency),
            confidence=s.confidence if s else 0.0, flags=dumps(self.flags), ticket_id=cut(self.ticket_id),
            classification_version=cut(s.classification_version) if s else "",
            webhook_trigger=cut(self.item.trigger), webhook_received_at=self.item.webhook_received_at,
            event_id=cut(self.item.event_id), attempts=0, last_error="", snooze_until=None,
            created_at=now, updated_at=now, kind=self.kind, rfc_message_id=self.rfc_message_id,
            conversation_id=self.conversation_id, bounce_of=cut(self.bounce_of),
            unread=msg.unread, starred=msg.starred,
        )

    def body(self, row_id: int) -> dict:
        msg = self.item.message
        return dict(
            message=row_id,
            body_text=db_safe(msg.body_text)[:MAX_BODY_TEXT],
            body_html=db_safe(msg.body_html)[:MAX_BODY_HTML],
            snippet=db_safe(msg.snippet),
            headers=dumps([[h.name, h.value] for h in msg.headers]),
            to_addrs=dumps([a.model_dump() for a in msg.to]),
            cc_addrs=dumps([a.model_dump() for a in msg.cc]),
            reply_to=dumps([a.model_dump() for a in msg.reply_to]),
            attachments=dumps([a.model_dump() for a in msg.attachments]),
            internet_message_id=db_safe(msg.internet_message_id),
            in_reply_to=db_safe(msg.in_reply_to),
            references=dumps(msg.references),
            hidden_characters=dumps(self.item.signals.hidden_characters or msg.hidden_characters),
            signals=dumps(self.item.signals.model_dump()),
            truncated="truncated" in self.flags,
        )

    def suggestion_row(self, row_id: int, now: float) -> dict:
        s = self.suggestion
        return dict(
            message=row_id, category=cut(s.category), urgency=cut(s.urgency), confidence=s.confidence,
            reasons=dumps(s.reasons), classification_version=cut(s.classification_version),
            needs_human=s.needs_human, created_at=now, provisional=s.provisional,
        )

    def audit(self, scope: InboxScope, action: str, now: float, detail: dict) -> dict:
        item = self.item
        s = self.suggestion if action == "ingest.stored" else None
        return audit_values(AuditEvent(
            at=from_epoch(now), actor=ACTOR, action=action, tenant_id=scope.tenant_id,
            environment=scope.environment, agent_account_email=cut(scope.agent_account_email),
            grant_id=scope.grant_id, workspace_id=self.workspace_id, policy_id=self.policy_id,
            rule_ids=self.rule_ids, message_id=self.message_id, thread_id=self.thread_id,
            ticket_id=cut(self.ticket_id) if action == "ingest.stored" else "",
            event_id=cut(item.event_id), dedupe_key=cut(f"{scope.grant_id}:{self.message_id}"),
            webhook_trigger=cut(item.trigger), webhook_received_at=from_epoch(item.webhook_received_at),
            classification_version=cut(s.classification_version) if s else "", detail=detail,
        ))


def _state(item: "PreparedMessage", suggestion: Suggestion | None, ticket_id: str) -> str:
    if item.signals.automated:
        return MessageState.DISMISSED.value
    if ticket_id:
        return MessageState.TICKET.value
    if suggestion is None or suggestion.needs_human:
        return MessageState.NEEDS_HUMAN.value
    return MessageState.NEW.value


def tickets_of_threads(grant_id: str, thread_ids: list[str]) -> dict[str, str]:
    """thread id -> ticket id for the threads that already have a ticket."""
    if not thread_ids:
        return {}
    found = {
        row.thread_id: row.ticket_id
        for row in ThreadRow.select(ThreadRow.thread_id, ThreadRow.ticket_id).where(
            (ThreadRow.grant_id == grant_id) & (ThreadRow.thread_id.in_(thread_ids)) & (ThreadRow.ticket_id != "")
        )
    }
    for row in TicketRow.select(TicketRow.thread_id, TicketRow.ticket_id).where(
        (TicketRow.grant_id == grant_id) & (TicketRow.thread_id.in_(thread_ids))
    ):
        found[row.thread_id] = row.ticket_id
    return found


def upsert_threads(grant_id: str, plans: list[RowPlan], now: float) -> None:
    by_thread: dict[str, list[RowPlan]] = {}
    for plan in plans:
        by_thread.setdefault(plan.thread_id, []).append(plan)
    if not by_thread:
        return
    ThreadRow.insert_many([
        dict(grant_id=grant_id, thread_id=tid, subject=db_safe(group[0].item.message.subject)[:MAX_SUBJECT],
             updated_at=now)
        for tid, group in by_thread.items()
    ]).on_conflict_ignore().execute()
    query = ThreadRow.select().where((ThreadRow.grant_id == grant_id) & (ThreadRow.thread_id.in_(list(by_thread))))
    if not is_sqlite():
        query = query.order_by(ThreadRow.id).for_update()
    for row in query:
        group = by_thread.get(row.thread_id, [])
        info = next((p.item.thread for p in group if p.item.thread is not None), None)
        ids = loads(row.message_ids, [])
        seen = set(ids)
        people = {p["email"].lower(): p for p in loads(row.participants, []) if p.get("email")}
        latest = [row.latest_message_at] if row.latest_message_at else []
        if info is not None:
            extra_ids = list(info.message_ids)
            extra_people = list(info.participants)
            if info.latest_message_at:
                latest.append(to_epoch(info.latest_message_at))
        else:
            extra_ids, extra_people = [], []
        for plan in group:
            msg = plan.item.message
            extra_ids.append(msg.message_id)
            extra_people.extend([msg.sender, *msg.to, *msg.cc])
            latest.append(to_epoch(msg.received_at))
        for mid in extra_ids:
            if mid and mid not in seen:
                seen.add(mid)
                ids.append(mid)
        for address in extra_people:
            if address.email and address.email.lower() not in people:
                people[address.email.lower()] = address.model_dump()
        ThreadRow.update(
            message_ids=dumps(ids[-2000:]), participants=dumps(list(people.values())[:200]),
            latest_message_at=max(latest), updated_at=now,
        ).where(ThreadRow.id == row.id).execute()
