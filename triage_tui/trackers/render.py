"""What a tracker item says, in Markdown, Atlassian Document Format or plain text.

The customer's words (subject, body, display name, address) are untrusted: they appear verbatim inside
a code block or quote, never as markup that could mention people, link, embed images or fake our marker.
Every write ends with the marker `triage-tui:write=<command_result_id>`, which reconciliation looks for.
"""

from __future__ import annotations

import re

MARKER_PREFIX = "triage-tui:write="
MAX_CUSTOMER_CHARS = 20_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def marker(command_result_id: str) -> str:
    """The text that identifies one write in a tracker item or comment."""
    return f"{MARKER_PREFIX}{command_result_id}"


def has_marker(text: str | None, command_result_id: str) -> bool:
    """True when `text` carries this write's marker."""
    return bool(text) and marker(command_result_id) in text


def clean_line(text: str, limit: int) -> str:
    """One line: no control or bidi characters, whitespace collapsed, cut to `limit` characters."""
    line = " ".join(_CONTROL.sub(" ", text or "").split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def title(payload: dict, limit: int = 240) -> str:
    """The item title: the subject, cleaned (the subject is untrusted but only ever text)."""
    return clean_line(payload.get("subject") or "", limit) or "(no subject)"


def customer_text(text: str) -> str:
    """The customer's text, cut to a size every tracker accepts, with control characters removed."""
    text = _CONTROL.sub("", (text or "").replace("\r\n", "\n")).replace("\x0b", "")
    if len(text) > MAX_CUSTOMER_CHARS:
        text = text[:MAX_CUSTOMER_CHARS] + "\n[… cut by triage-tui]"
    return text or "(empty message)"


def fence(text: str) -> str:
    """A Markdown fenced code block that no run of backticks in `text` can close."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


def inline(text: str) -> str:
    """Untrusted short text as Markdown inline code (no mentions, links or HTML)."""
    return "`" + clean_line(text, 200).replace("`", "'") + "`" if text else "`-`"


def sender_text(payload: dict, key: str = "sender") -> str:
    """`Name <email>` of the stored sender, cleaned."""
    sender = payload.get(key) or {}
    email, name = clean_line(sender.get("email", ""), 200), clean_line(sender.get("name", ""), 120)
    return f"{name} <{email}>" if name else email or "(unknown sender)"


def facts_lines(payload: dict) -> list[tuple[str, str]]:
    """The labelled facts of a created item, as (label, value) pairs (values still untrusted text)."""
    return [
        ("From", sender_text(payload)),
        ("Category", payload.get("category", "")),
        ("Urgency", payload.get("urgency", "")),
        ("Received", payload.get("received_at") or ""),
        ("Ticket", payload.get("ticket_id", "")),
        ("Conversation", payload.get("link", "")),
    ]


def comment_heading(payload: dict) -> str:
    """The first line of a comment: who said it and when."""
    if payload.get("author") == "agent":
        return f"Reply sent to the customer ({payload.get('at', '')})"
    return f"New message from the customer {sender_text(payload)} ({payload.get('at', '')}), untrusted, verbatim"


def markdown_create(payload: dict, command_result_id: str) -> str:
    """GitHub and Linear description: facts, the quoted customer text, the marker."""
    lines = [f"- **{label}:** {inline(value)}" for label, value in facts_lines(payload) if value]
    return "\n".join([
        *lines, "", "Customer message (untrusted, verbatim):", "", fence(customer_text(payload.get("customer_text", ""))),
        "", f"<sub>Written by triage-tui.</sub> <!-- {marker(command_result_id)} -->",
    ])


def markdown_comment(payload: dict, command_result_id: str) -> str:
    """A comment in Markdown: heading, the text in a code block, the marker."""
    return "\n".join([
        f"**{comment_heading(payload).replace('*', '')}**", "", fence(customer_text(payload.get("text", ""))),
        "", f"<!-- {marker(command_result_id)} -->",
    ])


def plain_create(payload: dict, command_result_id: str) -> str:
    """Zendesk's first comment, plain text: facts, the quoted customer text, the marker."""
    lines = [f"{label}: {clean_line(str(value), 300)}" for label, value in facts_lines(payload) if value]
    quoted = "\n".join("> " + line for line in customer_text(payload.get("customer_text", "")).split("\n"))
    return "\n".join([*lines, "", "Customer message (untrusted, verbatim):", quoted, "", f"[{marker(command_result_id)}]"])


def plain_comment(payload: dict, command_result_id: str) -> str:
    """A plain-text comment: heading, the quoted text, the marker."""
    quoted = "\n".join("> " + line for line in customer_text(payload.get("text", "")).split("\n"))
    return "\n".join([comment_heading(payload), "", quoted, "", f"[{marker(command_result_id)}]"])


def _text(value: str) -> dict:
    return {"type": "text", "text": value}


def _paragraph(*nodes: dict) -> dict:
    return {"type": "paragraph", "content": [n for n in nodes if n.get("text")]}


def adf_create(payload: dict, command_result_id: str) -> dict:
    """Jira's description as an ADF document; the customer's text is a code block of plain text nodes."""
    facts = [_paragraph({**_text(f"{label}: "), "marks": [{"type": "strong"}]}, _text(clean_line(str(value), 300)))
             for label, value in facts_lines(payload) if value]
    return {"version": 1, "type": "doc", "content": [
        *facts,
        _paragraph(_text("Customer message (untrusted, verbatim):")),
        {"type": "codeBlock", "content": [_text(customer_text(payload.get("customer_text", "")))]},
        _paragraph(_text(f"Written by triage-tui. {marker(command_result_id)}")),
    ]}


def adf_comment(payload: dict, command_result_id: str) -> dict:
    """A Jira comment as an ADF document."""
    return {"version": 1, "type": "doc", "content": [
        _paragraph(_text(clean_line(comment_heading(payload), 400))),
        {"type": "codeBlock", "content": [_text(customer_text(payload.get("text", "")))]},
        _paragraph(_text(marker(command_result_id))),
    ]}


def adf_text(node) -> str:
    """Every text of an ADF node, joined (for finding a marker)."""
    if isinstance(node, dict):
        own = node.get("text", "") if isinstance(node.get("text"), str) else ""
        return own + " ".join(adf_text(child) for child in node.get("content") or [])
    if isinstance(node, list):
        return " ".join(adf_text(child) for child in node)
    return str(node or "")
