"""Per-category reply drafts: fixed text chosen by a table, never by the message or a model."""

from __future__ import annotations

from triage_tui.config import OutboundConfig
from triage_tui.domain import InboundMessage, Reply
from triage_tui.outbound.content import header_safe, reply_subject
from triage_tui.outbound.recipients import compute_recipients

_OPENING = "Hello{name},\n\n"
_CLOSING = "\n\nYour reference is {ticket}; keep it in the subject if you write again.\n\n{agent}\n"
_CLOSING_NO_TICKET = "\n\nReply to this email if you write again.\n\n{agent}\n"

TEMPLATES: dict[str, str] = {
    "billing": (
        "Thank you for writing to us about billing. We have opened a ticket and someone from our "
        "billing team will look at your account and reply to you here."
    ),
    "bug": (
        "Thank you for reporting this problem. We have opened a ticket and our engineers will try to "
        "reproduce it. If you can, reply with the steps that lead to it and what you expected to happen."
    ),
    "account_access": (
        "Thank you for letting us know you cannot get into your account. We have opened a ticket. For "
        "your safety we will never ask for your password by email."
    ),
    "feature_request": (
        "Thank you for the suggestion. We have recorded it for the product team and will let you know "
        "here if it is planned."
    ),
    "spam": "We received your message.",
    "other": (
        "Thank you for your message. We have opened a ticket and a member of our team will reply to "
        "you here."
    ),
}


def draft_reply(message: InboundMessage, category: str, *, ticket_id: str, agent_name: str) -> Reply:
    """A plain-text draft for the category (unknown ones use "other"), to the From address.

    With a ticket the closing names its reference; without one it names none (never "pending").
    """
    text = TEMPLATES.get(category, TEMPLATES["other"])
    name = header_safe(message.sender.name).split(" ")[0][:40] if message.sender.name else ""
    agent = header_safe(agent_name) or "Support"
    ticket = header_safe(ticket_id)
    closing = _CLOSING.format(ticket=ticket, agent=agent) if ticket else _CLOSING_NO_TICKET.format(agent=agent)
    body = _OPENING.format(name=f" {name}" if name else "") + text + closing
    choice = compute_recipients(message, OutboundConfig(), agent_email="")
    return Reply(
        grant_id=message.grant_id,
        reply_to_message_id=message.message_id,
        to=choice.to,
        cc=[],
        subject=reply_subject(message.subject),
        body=body,
    )
