"""Visible text: what a human reviewer sees, with invisible smuggling characters removed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

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
# C0/C1 controls other than tab and newline (category Cc).
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


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
    if text.isascii():  # every hidden character is outside ASCII
        return VisibleText(_CONTROL_RE.sub(" ", text))
    found = sorted({_kind(c) for c in _HIDDEN_RE.findall(text)})
    cleaned = _HIDDEN_RE.sub("", text)
    cleaned = _CONTROL_RE.sub(" ", cleaned)
    return VisibleText(cleaned, tuple(found))


def collapse(text: str) -> str:
    """Collapse runs of whitespace to one space."""
    return " ".join(text.split())


# The last message prepared: every member of a chain asks for the same message in turn.
_last_prepared: tuple[InboundMessage, int, VisibleText] | None = None


def message_text(message: InboundMessage, *, max_chars: int = 20_000) -> VisibleText:
    """The visible subject and body of a message, as one string for a text classifier."""
    global _last_prepared
    last = _last_prepared
    if last is not None and last[0] is message and last[1] == max_chars:
        return last[2]
    body = message.body_text or message.snippet
    seen = visible(f"{message.subject}\n{body}"[: max_chars * 2])
    hidden = sorted(set(seen.hidden) | set(message.hidden_characters))
    prepared = VisibleText(collapse(seen.text)[:max_chars], tuple(hidden))
    _last_prepared = (message, max_chars, prepared)
    return prepared


def sender_domain(message: InboundMessage) -> str:
    """The lower-cased domain of the sender's address, or empty."""
    email = message.sender.email.strip().lower()
    return email.rsplit("@", 1)[1] if "@" in email else ""


# Text that talks to a classifier or forges a chat turn: a human should read such mail.
_INJECTION_PATTERNS: tuple[tuple[str, str], ...] = (
    ("ignore-instructions", r"\b(ignore|disregard|forget)\b.{0,30}\b(instructions|rules|prompt)\b"),
    ("label-assignment", r"\b(category|urgency|confidence)\b[\"']?\s*(=|:|\bto\b)"),
    ("chat-template", r"<\|[a-z_ ]{2,30}\|>"),
    ("role-tag", r"</?\s*(system|assistant|user|tool|instructions?)\s*>"),
    (
        "fake-turn",
        r"\b(system|assistant)\s*:\s*(you|ignore|new|override|instruction|reclassify|admin)",
    ),
    ("email-delimiter", r"\[EMAIL_END_INDICATOR\]|\{\{\s*email\s*\d+\s*\}\}"),
    ("classifier-address", r"\b(classifier|triage (system|bot|model)|ai assistant)\b"),
    ("approval-bypass", r"\b(pre-?approved|without (human )?approval|skip (the )?approval)\b"),
)
_INJECTION_RE = [(name, re.compile(p, re.IGNORECASE)) for name, p in _INJECTION_PATTERNS]
# Every pattern above needs one of these substrings (lower-cased): a cheap first filter.
_INJECTION_HINTS = (
    "ignore", "disregard", "forget", "categor", "urgency", "confidence", "<|", "<", "system",
    "assistant", "email_end", "{{", "classifier", "triage", "approv",
)


def injection_markers(text: str) -> list[str]:
    """Names of the prompt-injection patterns that occur in visible text."""
    return list(_injection_markers(text))


@lru_cache(maxsize=32)  # the members of a chain check the same text one after another
def _injection_markers(text: str) -> tuple[str, ...]:
    lowered = text.lower()
    if not any(hint in lowered for hint in _INJECTION_HINTS):
        return ()
    return tuple(name for name, pattern in _INJECTION_RE if pattern.search(text))


def hygiene(seen: VisibleText) -> tuple[list[str], bool]:
    """Reasons to show about hidden characters and injection attempts; True if a human must look."""
    reasons: list[str] = []
    unsure = False
    if seen.hidden:
        reasons.append(f"hidden characters stripped before classifying: {', '.join(seen.hidden)}")
    if "unicode-tag" in seen.hidden:
        reasons.append("Unicode tag characters (ASCII smuggling) present; needs a human")
        unsure = True
    markers = injection_markers(seen.text)
    if markers:
        reasons.append(
            f"text addresses the classifier ({', '.join(markers)}): possible prompt injection; "
            "needs a human"
        )
        unsure = True
    return reasons, unsure
