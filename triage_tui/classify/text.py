"""Visible text: what a human reviewer sees, with invisible smuggling characters removed."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from triage_tui.domain import InboundMessage

# Unicode tag block, zero-width characters, BOM, bidi embeddings/overrides and isolates.
_HIDDEN_RANGES: tuple[tuple[int, int, str], ...] = (
    (0xE0000, 0xE007F, "unicode-tag"),
    (0x200B, 0x200F, "zero-width"),
    (0x2060, 0x2064, "zero-width"),
    (0xFEFF, 0xFEFF, "zero-width"),
    (0x00AD, 0x00AD, "soft-hyphen"),
    (0x202A, 0x202E, "bidi-control"),
    (0x2066, 0x2069, "bidi-control"),
    (0x061C, 0x061C, "bidi-control"),
)
_HIDDEN_RE = re.compile(
    "[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi, _ in _HIDDEN_RANGES) + "]"
)
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class VisibleText:
    """Text with hidden characters stripped, and the kinds of hidden characters found."""

    text: str
    hidden: tuple[str, ...] = ()


def _kind(char: str) -> str:
    point = ord(char)
    return next(kind for lo, hi, kind in _HIDDEN_RANGES if lo <= point <= hi)


def visible(text: str) -> VisibleText:
    """Strip tag, zero-width and bidi characters (and other controls); report which kinds."""
    if not text:
        return VisibleText("")
    found = sorted({_kind(c) for c in _HIDDEN_RE.findall(text)})
    cleaned = _HIDDEN_RE.sub("", text)
    cleaned = "".join(
        c if c in "\n\t" or unicodedata.category(c) != "Cc" else " " for c in cleaned
    )
    return VisibleText(cleaned, tuple(found))


def collapse(text: str) -> str:
    """Collapse runs of whitespace to one space."""
    return _SPACE_RE.sub(" ", text).strip()


def message_text(message: InboundMessage, *, max_chars: int = 20_000) -> VisibleText:
    """The visible subject and body of a message, as one string for a text classifier."""
    body = message.body_text or message.snippet
    seen = visible(f"{message.subject}\n{body}"[: max_chars * 2])
    hidden = sorted(set(seen.hidden) | set(message.hidden_characters))
    return VisibleText(collapse(seen.text)[:max_chars], tuple(hidden))


def sender_domain(message: InboundMessage) -> str:
    """The lower-cased domain of the sender's address, or empty."""
    email = message.sender.email.strip().lower()
    return email.rsplit("@", 1)[1] if "@" in email else ""
