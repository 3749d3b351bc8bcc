"""Bounces of our own replies: find the reply a delivery failure reports on, so it is shown under it.

A bounce names what failed in one of two ways: In-Reply-To/References pointing at our reply's
Message-ID (what many providers send), or only the failed recipient (X-Failed-Recipients, or the
address in the report's text, as Postfix and Exim send). The second is matched to the newest
reply of ours to that address before the bounce arrived.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from triage_tui.domain import InboundMessage, MailKind
from triage_tui.store.models import MessageBody, MessageRow
from triage_tui.store.text import loads, to_epoch

if TYPE_CHECKING:
    from triage_tui.store.message_rows import RowPlan

ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
NOT_RECIPIENTS = ("mailer-daemon@", "postmaster@", "mail-daemon@", "mailerdaemon@")
LOOKBACK_S = 14 * 86400
MAX_CANDIDATES = 300
SCAN_CHARS = 20_000
OWN = MailKind.OWN_OUTBOUND.value


def failed_recipients(message: InboundMessage, own: str) -> list[str]:
    """The addresses a bounce says could not be reached (never ours or the reporting daemon's)."""
    text = " ".join(message.header_values("X-Failed-Recipients")) + "\n" + message.body_text[:SCAN_CHARS]
    found: list[str] = []
    for address in ADDRESS.findall(text):
        lowered = address.lower().rstrip(".")
        if lowered == own.lower() or lowered.startswith(NOT_RECIPIENTS) or lowered == message.sender.email.lower():
            continue
        if lowered not in found:
            found.append(lowered)
    return found[:10]


def link_bounces(grant_id: str, own_email: str, plans: list["RowPlan"]) -> None:
    """Point each bounce at the reply it reports on: `bounce_of` and that reply's conversation."""
    bounces = [p for p in plans if p.kind == MailKind.BOUNCE.value]
    if not bounces:
        return
    ours = [p for p in plans if p.kind == OWN]
    for bounce in bounces:
        target = _by_reference(grant_id, bounce, ours) or _by_recipient(grant_id, own_email, bounce, ours)
        if target is not None:
            bounce.bounce_of, bounce.conversation_key = target


def _by_reference(grant_id: str, bounce: "RowPlan", ours: list["RowPlan"]) -> tuple[str, str] | None:
    message = bounce.item.message
    wanted = [i for i in [message.in_reply_to, *reversed(message.references)] if i]
    if not wanted:
        return None
    for plan in ours:
        if plan.rfc_message_id in wanted:
            return plan.message_id, plan.conversation_key
    row = (MessageRow.select(MessageRow.message_id, MessageRow.thread_id)
           .where((MessageRow.grant_id == grant_id) & MessageRow.rfc_message_id.in_(wanted)
                  & (MessageRow.kind == OWN)).first())
    return (row.message_id, row.thread_id or row.message_id) if row is not None else None


def _by_recipient(grant_id: str, own_email: str, bounce: "RowPlan", ours: list["RowPlan"]) -> tuple[str, str] | None:
    message = bounce.item.message
    recipients = set(failed_recipients(message, own_email))
    if not recipients:
        return None
    arrived = to_epoch(message.received_at)
    same_batch = [p for p in ours if p.received <= arrived
                  and recipients & {a.email.lower() for a in p.item.message.to}]
    if same_batch:
        newest = max(same_batch, key=lambda p: p.received)
        return newest.message_id, newest.conversation_key
    query = (MessageRow.select(MessageRow.message_id, MessageRow.thread_id, MessageBody.to_addrs)
             .join(MessageBody, on=(MessageBody.message == MessageRow.id))
             .where((MessageRow.grant_id == grant_id) & (MessageRow.kind == OWN)
                    & (MessageRow.received_at <= arrived) & (MessageRow.received_at >= arrived - LOOKBACK_S))
             .order_by(MessageRow.received_at.desc()).limit(MAX_CANDIDATES))
    for message_id, thread_id, to_addrs in query.tuples():
        emails = {str(a.get("email", "")).lower() for a in loads(to_addrs, []) if isinstance(a, dict)}
        if recipients & emails:
            return message_id, thread_id or message_id
    return None
