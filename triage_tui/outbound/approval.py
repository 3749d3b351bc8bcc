"""Approving a reply: decision, outbox entry (key + content hash) and audit row in one transaction."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

from triage_tui.config import Config
from triage_tui.domain import Address, AuditEvent, DecisionKind, InboundMessage, OutboxEntry, Reply
from triage_tui.outbound.content import ContentError, check_sendable, content_hash, normalise_email
from triage_tui.outbound.policy import PolicyError, auto_reply_blockers, send_api_uri, sending_inbox
from triage_tui.outbound.recipients import RecipientChoice, compute_recipients
from triage_tui.store.audit import record_audit
from triage_tui.store.db import write_transaction
from triage_tui.store.models import DecisionRow, OutboxRow
from triage_tui.store.outbox import load_original, to_entry
from triage_tui.store.text import db_safe, dumps


class ApprovalError(ValueError):
    """An approval that is refused; nothing was written. The message says why in one line."""


def _epoch(now) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        return (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).timestamp()
    return float(now)


def _emails(addresses: list[Address]) -> list[str]:
    return [normalise_email(a.email) for a in addresses]


def own_emails(config: Config) -> tuple[str, ...]:
    """Every address this deployment sends from; never a recipient."""
    return tuple(inbox.email for inbox in config.inboxes)


def choose_recipients(reply: Reply, choice: RecipientChoice, *, explicit: bool, cap: int) -> list[Address]:
    """The computed addresses the reply may go to, or ApprovalError when it names others."""
    wanted = _emails(reply.to)
    if not wanted:
        raise ApprovalError("the reply has no recipient")
    if len(set(wanted)) != len(wanted):
        raise ApprovalError("the reply lists a recipient twice")
    if len(wanted) + len(reply.cc) > cap:
        raise ApprovalError(f"the reply has more than {cap} recipients")
    if reply.cc:
        raise ApprovalError("cc recipients are not computed by code for replies; remove them")
    computed = {a.email: a for a in choice.to}
    if wanted == [a.email for a in choice.to]:
        return list(choice.to)
    if explicit:
        allowed = {**computed, **{a.email: a for a in choice.alternatives}}
        if all(email in allowed for email in wanted):
            return [allowed[email] for email in wanted]
        raise ApprovalError("an explicitly chosen recipient is not among the computed alternatives")
    if choice.needs_explicit_choice and any(email in {a.email for a in choice.alternatives} for email in wanted):
        raise ApprovalError("the Reply-To address is on another domain: choose it explicitly to use it")
    raise ApprovalError(
        "the reply's recipients were not computed from the original message "
        f"(expected {', '.join(a.email for a in choice.to) or 'nobody'})"
    )


def approve_reply(
    reply: Reply,
    *,
    actor: str,
    config: Config,
    message_id: str,
    grant_id: str,
    explicit_recipients: bool = False,
    now=None,
    kind: str = "reply",
) -> OutboxEntry:
    """Bind the reply the approver saw to an outbox entry; refuse anything code did not choose."""
    if not actor.strip():
        raise ApprovalError("an approval needs the approver's name")
    if reply.grant_id != grant_id or reply.reply_to_message_id != message_id:
        raise ApprovalError("the reply does not answer this message of this grant")
    try:
        inbox = sending_inbox(config, grant_id)
        send_api_uri(config)
        check_sendable(reply.subject, reply.body, [*reply.to, *reply.cc])
    except (PolicyError, ContentError) as exc:
        raise ApprovalError(str(exc)) from None
    if db_safe(reply.body) != reply.body or db_safe(reply.subject) != reply.subject:
        raise ApprovalError("the reply holds characters that cannot be stored (NUL or lone surrogates)")
    found = load_original(grant_id, message_id)
    if found is None:
        raise ApprovalError(f"message {message_id!r} of grant {grant_id!r} is not in the store")
    original, ticket_id = found
    if kind == "acknowledgement":
        blockers = auto_reply_blockers(original)
        if blockers:
            raise ApprovalError(f"no automatic acknowledgement: {blockers[0]}")
    choice = compute_recipients(
        original, config.outbound, agent_email=inbox.email, own_emails=own_emails(config)
    )
    to = choose_recipients(reply, choice, explicit=explicit_recipients, cap=config.outbound.max_recipients)
    return _enqueue(reply, to, original, ticket_id, actor=actor, config=config, now=_epoch(now), kind=kind,
                    explicit=explicit_recipients, warning=choice.warning)


def _enqueue(reply: Reply, to: list[Address], original: InboundMessage, ticket_id: str, *, actor: str,
             config: Config, now: float, kind: str, explicit: bool, warning: str) -> OutboxEntry:
    command_result_id = str(uuid.uuid4())
    decision_id = str(uuid.uuid4())
    digest = content_hash(grant_id=reply.grant_id, to=to, cc=[], subject=reply.subject, body=reply.body,
                          reply_to_message_id=reply.reply_to_message_id)
    inbox = config.inbox(reply.grant_id)
    with write_transaction():
        DecisionRow.create(
            decision_id=decision_id, grant_id=reply.grant_id, message_id=original.message_id,
            thread_id=original.thread_id, kind=DecisionKind.APPROVE_REPLY.value, actor=db_safe(actor),
            decided_at=now, ticket_id=ticket_id, command_result_id=command_result_id,
        )
        row = OutboxRow.create(
            command_result_id=command_result_id, kind=kind, decision_id=decision_id,
            tenant_id=config.tenant_id, environment=config.environment, grant_id=reply.grant_id,
            reply_to_message_id=reply.reply_to_message_id, thread_id=original.thread_id, ticket_id=ticket_id,
            to_addrs=dumps([a.model_dump() for a in to]), cc_addrs="[]", subject=reply.subject,
            body=reply.body, content_hash=digest, state="pending", approved_by=db_safe(actor),
            approved_at=now, expires_at=now + config.outbound.approval_expiry_s, created_at=now, updated_at=now,
        )
        record_audit(AuditEvent(
            action="outbox.approved", actor=actor, at=datetime.fromtimestamp(now, tz=timezone.utc),
            tenant_id=config.tenant_id, environment=config.environment,
            agent_account_email=inbox.email if inbox else "", grant_id=reply.grant_id,
            workspace_id=inbox.workspace_id if inbox else "", policy_id=inbox.policy_id if inbox else "",
            message_id=original.message_id, thread_id=original.thread_id, ticket_id=ticket_id,
            decision_id=decision_id, command_result_id=command_result_id,
            detail={"kind": kind, "content_hash": digest, "to": [a.email for a in to],
                    "explicit_recipients": explicit, "warning": warning},
        ))
    return to_entry(row)
