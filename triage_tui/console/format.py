"""Pure text helpers for the console: ages, SLA, sparklines and folded quotes (no textual)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from triage_tui.domain import InboundMessage, MailSignals, QueueItem

SPARK_BARS = "▁▂▃▄▅▆▇█"
URGENCY_MARK = {"critical": "!!!", "high": "!! ", "normal": "!  ", "low": "·  "}
STATE_LABEL = {
    "new": "new",
    "needs_human": "needs human",
    "ticket": "ticket",
    "replied": "replied",
    "dismissed": "dismissed",
    "snoozed": "snoozed",
    "quarantined": "quarantined",
    "open": "open",
    "pending": "pending",
    "solved": "solved",
    "automated": "automated",
}
STATE_SHORT = {"needs_human": "human", "dismissed": "dismiss", "quarantined": "qtn", "automated": "auto"}
FLAG_CODES = {
    "automated": "auto", "auto_reply": "ooo", "bounce": "bnc", "mailing_list": "list", "list": "list",
    "own_outbound": "own", "loop_suspected": "loop", "reply_to_differs": "rto", "hidden_characters": "hid",
    "truncated": "cut", "quarantined": "qtn",
}
FLAGS_HELP = ("Flags: auto automated, ooo auto-reply, bnc bounce, list mailing list, own our own mail, "
              "loop mail loop, rto Reply-To differs, hid hidden characters, cut truncated, qtn quarantined.")
_WROTE = re.compile(r"^\s*On .{0,300}wrote:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(r"^\s*-{2,} ?(Original Message|Forwarded message) ?-{2,}\s*$", re.IGNORECASE)


def age_text(received_at: datetime, now: datetime) -> str:
    """A compact age: 45s, 12m, 3h, 2d."""
    seconds = max(0, int((now - received_at).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400 * 2:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def sla_start(item: QueueItem) -> datetime | None:
    """Since when a row has waited on us: a conversation's oldest unanswered customer message."""
    return item.sla_started_at if item.conversation else item.received_at


def sla_fraction(item: QueueItem, now: datetime, sla_minutes: dict[str, int]) -> float:
    """How much of its urgency's SLA a row has used (1.0 or more is overdue; 0 when nothing waits)."""
    start = sla_start(item)
    if start is None:
        return 0.0
    minutes = sla_minutes.get(item.urgency) or sla_minutes.get("normal") or 480
    return max(0.0, (now - start).total_seconds() / (minutes * 60))


def sla_text(item: QueueItem, now: datetime, sla_minutes: dict[str, int]) -> str:
    """Waiting time with its SLA state, e.g. `12m/30m` or `3h OVER`; `-` when nothing waits on us."""
    start = sla_start(item)
    if start is None:
        return "-"
    minutes = sla_minutes.get(item.urgency) or sla_minutes.get("normal") or 480
    age = age_text(start, now)
    if sla_fraction(item, now, sla_minutes) >= 1.0:
        return f"{age} OVER"
    return f"{age}/{_minutes_text(minutes)}"


def status_text(item: QueueItem, *, short: bool = False) -> str:
    """A row's status: the ticket's status when it has one and is not snoozed, else its state."""
    state = str(item.state)
    if item.ticket_status and state != "snoozed":
        state = item.ticket_status
    if short:
        return STATE_SHORT.get(state, STATE_LABEL.get(state, state))
    return STATE_LABEL.get(state, state)


def count_text(count: int) -> str:
    """A message count that fits three cells."""
    return str(count) if count < 100 else "99+"


def _minutes_text(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def flags_text(flags: list[str]) -> str:
    """Flags as short codes (the help screen explains them)."""
    return " ".join(FLAG_CODES.get(flag, flag) for flag in flags)


def sparkline(values: list[int]) -> str:
    """A one-line bar chart of small counts."""
    if not values:
        return ""
    top = max(values)
    if top <= 0:
        return SPARK_BARS[0] * len(values)
    last = len(SPARK_BARS) - 1
    return "".join(SPARK_BARS[min(last, round(v * last / top))] for v in values)


def clip(text: str, width: int) -> str:
    """Cut text to a width, marking the cut with an ellipsis."""
    text = reveal_hidden(" ".join(text.split()))
    if len(text) <= width:
        return text.ljust(width)
    return text[: max(0, width - 1)] + "…"


@dataclass(frozen=True)
class TextBlock:
    """A run of body lines: plain text, or a quoted block that may be folded."""

    quoted: bool
    lines: tuple[str, ...]


def split_quotes(body: str) -> list[TextBlock]:
    """Split a body into plain and quoted blocks: `>` lines, `On ... wrote:` and an original message."""
    lines = body.replace("\r\n", "\n").split("\n")
    kinds = [line.lstrip().startswith(">") for line in lines]
    for index, line in enumerate(lines):
        if _ORIGINAL.match(line):
            kinds[index:] = [True] * (len(lines) - index)
            break
        if _WROTE.match(line) and _next_text_is_quoted(lines, index):
            kinds[index] = True
    for index in range(1, len(lines)):
        if not lines[index].strip() and kinds[index - 1]:
            kinds[index] = True
    blocks: list[TextBlock] = []
    start = 0
    for index in range(1, len(lines) + 1):
        if index == len(lines) or kinds[index] != kinds[start]:
            blocks.append(TextBlock(kinds[start], tuple(lines[start:index])))
            start = index
    return [_trim_trailing_blank(block) for block in blocks if any(l.strip() for l in block.lines)]


def _next_text_is_quoted(lines: list[str], index: int) -> bool:
    for line in lines[index + 1 :]:
        if line.strip():
            return line.lstrip().startswith(">")
    return False


def _trim_trailing_blank(block: TextBlock) -> TextBlock:
    lines = list(block.lines)
    while lines and not lines[-1].strip():
        lines.pop()
    return TextBlock(block.quoted, tuple(lines))


def message_warnings(message: InboundMessage, signals: MailSignals) -> list[str]:
    """The warnings a reader must see before trusting a message."""
    warnings: list[str] = []
    hidden = sorted(set(signals.hidden_characters) | set(message.hidden_characters))
    if hidden:
        warnings.append("hidden characters: " + ", ".join(hidden))
    sender_domain = message.sender.email.rpartition("@")[2].lower()
    reply_to = [a.email for a in message.reply_to]
    differs = signals.reply_to_differs or any(
        a.rpartition("@")[2].lower() != sender_domain for a in reply_to
    )
    if differs and reply_to:
        warnings.append(f"Reply-To ({', '.join(reply_to)}) differs from From ({message.sender.email})")
    if signals.auto_reply:
        warnings.append("auto-reply: never answer it automatically")
    if signals.bounce:
        warnings.append("bounce: a delivery failure report")
    if signals.mailing_list:
        warnings.append("mailing-list mail")
    if signals.loop_suspected:
        warnings.append("mail loop suspected")
    if message.truncated:
        warnings.append("body truncated: the message was too large to keep whole")
    return warnings


def reveal_hidden(text: str) -> str:
    """Make invisible characters (zero-width, bidi controls, tags, terminal controls) visible as ⟦U+XXXX⟧."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(f"⟦U+{ord(ch):04X}⟧" if _hidden(ch) else ch for ch in text)


def _hidden(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category == "Cf" or (category == "Cc" and ch not in "\n\t")


def size_text(size: int) -> str:
    """A byte count for people: 512 B, 12 KB, 3.4 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size // 1024} KB"
    return f"{size / (1024 * 1024):.1f} MB"
