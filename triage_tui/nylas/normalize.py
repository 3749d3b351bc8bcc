"""Pure functions: an API message or thread (dict or SDK model) -> domain types, never a crash."""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from triage_tui.domain import Address, Attachment, Header, InboundMessage, RuleEvaluation, ThreadInfo
from triage_tui.nylas.text import (
    clean_text,
    hidden_character_names,
    html_to_text,
    looks_like_html,
    one_line,
    tag_payload,
    visible_text,
)
from triage_tui.nylas.types import Folder

__all__ = [
    "as_dict", "normalize_message", "normalize_thread", "normalize_folder",
    "normalize_rule_evaluation", "parse_message_ids", "tag_payload", "to_datetime", "visible_text",
]

MAX_HTML_CHARS = 2_000_000
MAX_TEXT_CHARS = 1_000_000
SNIPPET_CHARS = 100
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_MS_THRESHOLD = 100_000_000_000


def as_dict(raw: Any) -> dict:
    """A plain (shallow) dict from an API dict or an SDK dataclass; {} for anything else."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if dataclasses.is_dataclass(raw) and not isinstance(raw, type):
        # Shallow on purpose: SDK `to_dict()` is slow and every nested value goes through as_dict.
        return {f.name: getattr(raw, f.name, None) for f in dataclasses.fields(raw)}
    to_dict = getattr(raw, "to_dict", None)
    if callable(to_dict):
        try:
            value = to_dict()
        except Exception:  # noqa: BLE001 - an odd SDK object must not crash ingest
            return {}
        return dict(value) if isinstance(value, Mapping) else {}
    return {}


def to_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from unix seconds (int, float or numeric string); None if unusable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        seconds = float(str(value).strip()) if not isinstance(value, (int, float)) else float(value)
    except ValueError:
        return None
    if seconds != seconds or seconds < 0:
        return None
    if seconds > _MS_THRESHOLD:
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def parse_message_ids(value: Any) -> list[str]:
    """Message-IDs ('<...>') from a header value; a bare token is kept as it is."""
    text = one_line(value)
    if not text:
        return []
    found = _MESSAGE_ID.findall(text)
    return found if found else [text.split()[0]]


def normalize_message(raw: Any, grant_id: str = "", *, now: datetime | None = None) -> InboundMessage:
    """An InboundMessage from an API message; odd or missing fields give empty values."""
    data = as_dict(raw)
    headers = _headers(data.get("headers"))
    body = clean_text(data.get("body"))
    truncated = False
    if looks_like_html(body):
        body_html, truncated = _cap(body, MAX_HTML_CHARS)
        body_text = html_to_text(body_html)
    else:
        body_html, body_text = "", body
    body_text, text_cut = _cap(body_text, MAX_TEXT_CHARS)
    truncated = truncated or text_cut
    subject = one_line(data.get("subject"))
    snippet = one_line(data.get("snippet"))
    if looks_like_html(snippet):
        snippet = one_line(html_to_text(snippet))
    snippet = snippet or " ".join(body_text[:2000].split())[:SNIPPET_CHARS]
    senders = _addresses(data.get("from", data.get("from_")))
    received_at = to_datetime(data.get("date")) or to_datetime(data.get("created_at"))
    message_ids = _first_header_ids(headers, "message-id")
    in_reply_to = _first_header_ids(headers, "in-reply-to") or parse_message_ids(data.get("in_reply_to"))
    references = [ref for h in headers if h.name.lower() == "references" for ref in parse_message_ids(h.value)]
    names = " ".join(a.name for a in senders)
    return InboundMessage(
        grant_id=clean_text(grant_id) or clean_text(data.get("grant_id")),
        message_id=one_line(data.get("id")),
        thread_id=one_line(data.get("thread_id")),
        subject=subject,
        sender=senders[0] if senders else Address(email=""),
        to=_addresses(data.get("to")),
        cc=_addresses(data.get("cc")),
        reply_to=_addresses(data.get("reply_to")),
        received_at=received_at or now or datetime.now(timezone.utc),
        snippet=snippet,
        body_text=body_text,
        body_html=body_html,
        folder_ids=_ids(data.get("folders")),
        label_ids=_ids(data.get("labels")),
        headers=headers,
        attachments=_attachments(data.get("attachments")),
        internet_message_id=message_ids[0] if message_ids else "",
        in_reply_to=in_reply_to[0] if in_reply_to else "",
        references=references,
        unread=_bool(data.get("unread"), default=True),
        starred=_bool(data.get("starred"), default=False),
        hidden_characters=hidden_character_names(subject, names, snippet, body_text, body_html),
        truncated=truncated,
    )


def normalize_thread(raw: Any, grant_id: str = "") -> ThreadInfo:
    """A ThreadInfo from an API thread; latest date is the newest of received/sent."""
    data = as_dict(raw)
    latest = [to_datetime(data.get(key)) for key in ("latest_message_received_date", "latest_message_sent_date")]
    latest = [d for d in latest if d is not None]
    return ThreadInfo(
        grant_id=clean_text(grant_id) or clean_text(data.get("grant_id")),
        thread_id=one_line(data.get("id")),
        subject=one_line(data.get("subject")),
        message_ids=_ids(data.get("message_ids")),
        participants=_addresses(data.get("participants")),
        earliest_message_at=to_datetime(data.get("earliest_message_date")),
        latest_message_at=max(latest) if latest else None,
    )


def normalize_folder(raw: Any) -> Folder:
    """A Folder from an API folder; `attributes` accepted as a list or a string."""
    data = as_dict(raw)
    attributes = _string_list(data.get("attributes"))
    return Folder(
        id=one_line(data.get("id")),
        name=one_line(data.get("name")),
        system_folder=_bool(data.get("system_folder"), default=False),
        attributes=attributes,
        total_count=_int_or_none(data.get("total_count")),
        unread_count=_int_or_none(data.get("unread_count")),
    )


_ACTION_FLAGS = {
    "blocked": "block", "marked_as_spam": "mark_as_spam", "marked_as_read": "mark_as_read",
    "marked_starred": "mark_as_starred", "archived": "archive", "trashed": "trash",
}


def normalize_rule_evaluation(raw: Any, grant_id: str = "") -> RuleEvaluation:
    """A RuleEvaluation from an API rule-evaluation record (applied actions listed by name)."""
    data = as_dict(raw)
    applied = as_dict(data.get("applied_actions"))
    actions = [name for key, name in _ACTION_FLAGS.items() if _bool(applied.get(key), default=False)]
    actions += [f"assign_to_folder:{folder}" for folder in _ids(applied.get("folder_ids"))]
    return RuleEvaluation(
        grant_id=clean_text(grant_id) or clean_text(data.get("grant_id")),
        message_id=one_line(data.get("message_id")),
        policy_id=one_line(data.get("policy_id")),
        workspace_id=one_line(data.get("workspace_id")),
        rule_ids=_ids(data.get("matched_rule_ids", data.get("rule_ids"))),
        actions=actions,
        evaluated_at=to_datetime(data.get("evaluated_at", data.get("created_at"))),
    )


def _string_list(value: Any) -> list[str]:
    """A list of strings; the SDK's Folder model turns the API's list into its Python repr."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]") and len(text) < 10_000:
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                value = [text]
        else:
            value = [text] if text else []
    if not isinstance(value, list | tuple):
        return []
    return [one_line(item) for item in value if item is not None and one_line(item)]


def _cap(text: str, limit: int) -> tuple[str, bool]:
    return (text, False) if len(text) <= limit else (text[:limit], True)


def _addresses(value: Any) -> list[Address]:
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    result = []
    for item in items:
        if isinstance(item, str):
            email, name = item, ""
        else:
            entry = as_dict(item)
            email, name = entry.get("email"), entry.get("name")
        email = one_line(email).strip("<> \t")
        if email or one_line(name):
            result.append(Address(email=email, name=one_line(name)))
    return result


def _headers(value: Any) -> list[Header]:
    if isinstance(value, Mapping):
        pairs: Iterable = value.items()
    elif isinstance(value, list | tuple):
        pairs = []
        for item in value:
            entry = as_dict(item)
            if entry:
                pairs.append((entry.get("name"), entry.get("value")))
            elif isinstance(item, list | tuple) and len(item) == 2:
                pairs.append((item[0], item[1]))
    else:
        return []
    headers = []
    for name, header_value in pairs:
        name = one_line(name)
        if name:
            headers.append(Header(name=name, value=_unfold(clean_text(header_value))))
    return headers


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n[ \t]+", " ", value).replace("\r", " ").replace("\n", " ").strip()


def _first_header_ids(headers: list[Header], name: str) -> list[str]:
    for header in headers:
        if header.name.lower() == name:
            return parse_message_ids(header.value)
    return []


def _ids(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    ids = []
    for item in items:
        ident = one_line(as_dict(item).get("id")) if not isinstance(item, str | int) else one_line(item)
        if ident and ident not in ids:
            ids.append(ident)
    return ids


def _attachments(value: Any) -> list[Attachment]:
    if not isinstance(value, list | tuple):
        return []
    result = []
    for item in value:
        entry = as_dict(item)
        if not entry:
            continue
        result.append(
            Attachment(
                id=one_line(entry.get("id")),
                filename=one_line(entry.get("filename")),
                content_type=one_line(entry.get("content_type")),
                size=max(0, _int_or_none(entry.get("size")) or 0),
                is_inline=_bool(entry.get("is_inline"), default=False),
            )
        )
    return result


def _bool(value: Any, *, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
    return default


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(str(value).strip()))
    except (ValueError, OverflowError):
        return None
