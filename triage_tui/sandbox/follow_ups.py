"""Customers who answer our replies: the drip sends one answer to a reply sent through the API."""

from __future__ import annotations

import random

from triage_tui.sandbox.mailbox import MailRecord

ANSWERS = (
    "Thanks for the reply. I tried that, but it still does not work on our side.",
    "Thank you! One more question: does this also apply to our second workspace?",
    "Thanks for getting back to me. It happened again this morning, same error.",
    "That helped, thanks. Could you also send the invoice for last month?",
)
MIN_AGE_S = 20  # let a person see the ticket go pending before the customer answers


def answer_a_reply(sandbox, grant_id: str, rng: random.Random, answered: set[str], *, now: int) -> str | None:
    """Deliver a customer's answer to the oldest unanswered reply we sent (by API); its message id."""
    with sandbox.lock:
        box = sandbox.mailboxes[grant_id]
        replies = [m for m in box.messages.values()
                   if "SENT" in m.folders and m.id not in answered and now - m.date >= MIN_AGE_S
                   and m.record.to and any(n.lower() == "x-triage-reply-key" for n, _ in m.record.headers)]
        if not replies:
            return None
        reply = min(replies, key=lambda m: m.key)
        answered.add(reply.id)
        name, email = reply.record.to[0]
        subject = reply.record.subject if reply.record.subject.lower().startswith("re:") \
            else f"Re: {reply.record.subject}"
        references = [*reply.record.references, reply.record.message_id]
        text = f"{rng.choice(ANSWERS)}\n\n{name or email}\n"
        record = MailRecord(
            subject=subject, from_=[(name, email)], to=[(box.name, box.email)], body=text,
            snippet=" ".join(text.split())[:100], in_reply_to=reply.record.message_id, references=references,
            headers=[("From", f"{name} <{email}>" if name else email), ("To", box.email), ("Subject", subject),
                     ("In-Reply-To", reply.record.message_id), ("References", " ".join(references))],
        )
    result = sandbox.deliver(grant_id, record, now, {"category": "other", "urgency": "normal", "kind": "reply"})
    return result.get("id")
