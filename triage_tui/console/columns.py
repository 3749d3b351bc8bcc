"""Queue columns, their cells, and how they give way on narrow terminals so the subject stays readable.

The subject keeps at least SUBJECT_SHARE of the width. To make room, first the columns of
NARROW_ORDER narrow (CATEGORY loses its confidence, STATUS abbreviates, TICKET keeps the end of
the key), then whole columns drop in DROP_ORDER. Every cell is cut to its width with an ellipsis; nothing wraps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from triage_tui.console.format import URGENCY_MARK, clip, count_text, flags_text, sla_text, status_text
from triage_tui.domain import QueueItem

SUBJECT_SHARE = 0.35
SUBJECT_FLOOR = 16
SUBJECT_COMFORT = 64  # past this, spare width goes to FROM and CATEGORY first


@dataclass(frozen=True)
class Column:
    """One queue column: its title, preferred and narrowest width (0 = the subject, which flexes)."""

    id: str
    title: str
    width: int
    narrow: int
    right: bool = False
    widest: int = 0  # how far it may grow on a wide terminal (0: never)


COLUMNS = (
    Column("mark", "", 1, 1),
    Column("urgency", "URG", 3, 3),
    Column("subject", "SUBJECT", 0, 0),
    Column("count", "#", 3, 3, right=True),
    Column("sender", "FROM", 22, 12, widest=34),
    Column("category", "CATEGORY", 16, 8, widest=20),
    Column("waiting", "WAITING", 8, 8),
    Column("status", "STATUS", 11, 7),
    Column("ticket", "TICKET", 16, 9),
    Column("flags", "FLAGS", 9, 7),
    Column("reviewer", "REVIEWER", 8, 8),
)
NARROW_ORDER = ("sender", "category", "status", "ticket", "flags")
DROP_ORDER = ("ticket", "reviewer", "flags", "category", "sender")
MESSAGE_VIEW_HIDDEN = ("count",)


def layout(width: int, *, conversations: bool = True) -> list[tuple[Column, int]]:
    """The columns shown at this width, each with its width (one space between columns)."""
    shown = [c for c in COLUMNS if conversations or c.id not in MESSAGE_VIEW_HIDDEN]
    widths = {c.id: c.width for c in shown}
    subject_min = max(SUBJECT_FLOOR, int(width * SUBJECT_SHARE))

    def room() -> int:
        fixed = sum(w for cid, w in widths.items() if cid != "subject")
        return width - fixed - (len(widths) - 1)

    steps = [("narrow", cid) for cid in NARROW_ORDER] + [("drop", cid) for cid in DROP_ORDER]
    for action, cid in steps:
        if room() >= subject_min:
            break
        if cid not in widths:
            continue
        if action == "narrow":
            widths[cid] = next(c.narrow for c in shown if c.id == cid)
        else:
            del widths[cid]
    for column in shown:
        spare = room() - max(subject_min, SUBJECT_COMFORT)
        if column.widest and column.id in widths and widths[column.id] == column.width and spare > 0:
            widths[column.id] = min(column.widest, column.width + spare)
    widths["subject"] = max(1, room())
    return [(c, widths[c.id]) for c in shown if c.id in widths]


def narrowing_help() -> str:
    """What the help screen says about narrow terminals."""
    titles = {c.id: c.title for c in COLUMNS}
    narrowed = ", ".join(f"{titles[c]} ({next(x.width for x in COLUMNS if x.id == c)}→"
                         f"{next(x.narrow for x in COLUMNS if x.id == c)})" for c in NARROW_ORDER)
    dropped = ", ".join(titles[c] for c in DROP_ORDER)
    return (f"Narrow terminals: the subject keeps at least {SUBJECT_SHARE:.0%} of the width. First {narrowed} "
            f"narrow (CATEGORY without its confidence, STATUS abbreviated, TICKET shows the end of the key); "
            f"then {dropped} drop, in that order. "
            "Cells are cut with … and never wrap.")


def cell_text(column: str, item: QueueItem, width: int, preferred: int, now: datetime, *, marked: bool,
              sla_minutes: dict[str, int]) -> str:
    """What one cell of a row says at this width (narrowed columns say less)."""
    narrowed = width < preferred
    if column == "mark":
        return "●" if marked else " "
    if column == "urgency":
        return URGENCY_MARK.get(item.urgency, "?").strip() or "·"
    if column == "subject":
        return item.subject or "(no subject)"
    if column == "count":
        return count_text(item.message_count)
    if column == "sender":
        return item.sender
    if column == "category":
        if not item.category:
            return "-"
        return item.category if narrowed else f"{item.category} {item.confidence:.0%}"
    if column == "waiting":
        return sla_text(item, now, sla_minutes)
    if column == "status":
        return status_text(item, short=narrowed)
    if column == "ticket":
        key = item.ticket_id or "-"
        return key if len(key) <= width or not narrowed else "…" + key[-(width - 1):]
    if column == "flags":
        return flags_text(item.flags)
    return item.lease_holder


def fit(text: str, width: int, right: bool = False) -> str:
    """Text cut to exactly `width` cells with an ellipsis, left- or right-aligned."""
    cell = clip(text, width)
    return cell.strip().rjust(width) if right else cell
