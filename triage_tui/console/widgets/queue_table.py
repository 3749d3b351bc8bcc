"""The queue: a line-API widget that holds only a window of rows read by keyset from the store."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from triage_tui.console import data
from triage_tui.console.columns import Column, cell_text, fit, layout
from triage_tui.console.format import sla_fraction
from triage_tui.console.keymap import MOVEMENT_BINDINGS
from triage_tui.console.messages import QueueCounted, QueueExtended, QueueLoaded
from triage_tui.domain import QueueFilter, QueueItem

PAGE = 200
MAX_ROWS = 6 * PAGE
DEFAULT_VISIBLE = 60  # before the first layout the height is unknown: read enough for a tall terminal


class QueueTable(Widget, can_focus=True):
    """Shows the rows the viewport needs; asks the store for more only at the edges."""

    BINDINGS = MOVEMENT_BINDINGS
    COMPONENT_CLASSES = {
        "queue-table--header", "queue-table--cursor", "queue-table--marked", "queue-table--critical",
        "queue-table--high", "queue-table--normal", "queue-table--low", "queue-table--over",
        "queue-table--empty",
    }

    class CursorMoved(Message):
        """The highlighted row changed (or the window was reloaded)."""

        def __init__(self, table: "QueueTable") -> None:
            super().__init__()
            self.table = table

    class Opened(Message):
        """Enter on a row: open its thread."""

        def __init__(self, item: QueueItem) -> None:
            super().__init__()
            self.item = item

    def __init__(self, *, clock: Callable[[], datetime], sla_minutes: dict[str, int],
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.clock = clock
        self.sla_minutes = sla_minutes
        self.filter = QueueFilter()
        self.items: list[QueueItem] = []
        self.selected = 0
        self.top = 0
        self.at_start = True
        self.at_end = True
        self.count = 0
        self.loaded = False
        self.marked: dict[int, QueueItem] = {}
        self._styles: dict[str, Style] = {}
        self._lines: dict[tuple, Strip] = {}
        self._lines_minute = 0
        self._paint_width = 0
        self._generation = 0
        self._pending: set[bool] = set()
        self._carry = 0  # moves past a window edge, applied when the next page lands
        self._layout: list[tuple[Column, int]] = []
        self._layout_key: tuple | None = None

    # ----- what the screen asks -------------------------------------------------------------

    @property
    def current(self) -> QueueItem | None:
        """The highlighted row."""
        return self.items[self.selected] if 0 <= self.selected < len(self.items) else None

    @property
    def visible_rows(self) -> int:
        """How many rows fit under the column header."""
        height = self.size.height
        return height - 1 if height > 1 else DEFAULT_VISIBLE

    def set_filter(self, flt: QueueFilter) -> None:
        """Show another filter from its first row (marks go when the view changes: keys differ)."""
        if flt.messages != self.filter.messages:
            self.marked.clear()
        self.filter = flt
        self.items, self.selected, self.top = [], 0, 0
        self._lines.clear()
        self.reload()

    def toggle_mark(self) -> None:
        """Mark or unmark the highlighted row for a batch decision."""
        item = self.current
        if item is None:
            return
        if item.key in self.marked:
            del self.marked[item.key]
        else:
            self.marked[item.key] = item
        self.refresh()
        self.post_message(self.CursorMoved(self))

    def clear_marks(self) -> None:
        """Forget every mark."""
        self.marked.clear()
        self.refresh()
        self.post_message(self.CursorMoved(self))

    # ----- reading the store (thread workers) ------------------------------------------------

    def reload(self, *, from_end: bool = False) -> None:
        """Re-read the window around the highlighted row, keeping it where it is on screen."""
        self._generation += 1
        self._pending.clear()
        self._carry = 0
        anchor = self.current
        previous = self.items[self.selected - 1] if self.items and self.selected > 0 else None
        self._load(self.filter, anchor, previous, self.selected - self.top, self.visible_rows,
                   self._generation, from_end)

    @work(thread=True, group="queue-load", exclusive=True, exit_on_error=False)
    def _load(self, flt: QueueFilter, anchor: QueueItem | None, previous: QueueItem | None,
              offset: int, visible: int, generation: int, from_end: bool) -> None:
        now = self.clock().timestamp()
        if from_end:
            rows = data.window(flt, now=now, before=data.END_OF_QUEUE, limit=visible + PAGE)
            selected = len(rows) - 1
            message = QueueLoaded(rows, max(0, selected), max(0, selected - visible + 1),
                                  len(rows) < visible + PAGE, True, -1, generation)
            self.post_message(message)
            return
        if anchor is None:
            rows = data.window(flt, now=now, limit=visible + PAGE)
            self.post_message(QueueLoaded(rows, 0, 0, True, len(rows) < visible + PAGE, -1, generation))
            return
        above = data.window(flt, now=now, before=data.cursor(anchor), limit=offset + PAGE)
        start = data.cursor(above[-1]) if above else None
        limit = visible - offset + PAGE
        rest = data.window(flt, now=now, after=start, limit=limit)
        rows = above + rest
        selected = len(above) if rest else max(0, len(above) - 1)
        top = max(0, selected - offset)
        self.post_message(QueueLoaded(rows, selected, top, len(above) < offset + PAGE, len(rest) < limit, -1,
                                      generation))

    @work(thread=True, group="queue-count", exclusive=True, exit_on_error=False)
    def _count(self, flt: QueueFilter, generation: int) -> None:
        """Count the matching rows (capped); started after the window is painted."""
        now = self.clock().timestamp()
        self.post_message(QueueCounted(data.count(flt, now=now), generation))

    def on_queue_counted(self, message: QueueCounted) -> None:
        """Take the count of rows the filter matches."""
        message.stop()
        if message.generation == self._generation:
            self.count = message.count
            self.post_message(self.CursorMoved(self))

    @work(thread=True, group="queue-extend", exit_on_error=False)
    def _extend(self, flt: QueueFilter, edge: QueueItem, forward: bool, generation: int) -> None:
        now = self.clock().timestamp()
        if forward:
            rows = data.window(flt, now=now, after=data.cursor(edge), limit=PAGE)
        else:
            rows = data.window(flt, now=now, before=data.cursor(edge), limit=PAGE)
        self.post_message(QueueExtended(rows, forward, len(rows) < PAGE, generation))

    def on_queue_loaded(self, message: QueueLoaded) -> None:
        """Take a freshly read window."""
        message.stop()
        if message.generation != self._generation:
            return
        self.items = message.items
        self._lines.clear()
        self.selected = min(message.selected, max(0, len(self.items) - 1))
        self.top = min(message.top, self.selected)
        self.at_start, self.at_end = message.at_start, message.at_end
        if message.count >= 0:
            self.count = message.count
        self.loaded = True
        self.refresh()
        self.post_message(self.CursorMoved(self))
        self.call_after_refresh(self._count, self.filter, self._generation)
        self._prefetch()

    def on_queue_extended(self, message: QueueExtended) -> None:
        """Splice rows read past an edge onto the window, trimming the far side."""
        message.stop()
        self._pending.discard(message.forward)
        if message.generation != self._generation:
            return
        known = {item.key for item in self.items}
        rows = [item for item in message.items if item.key not in known]
        if message.forward:
            self.items.extend(rows)
            self.at_end = message.exhausted
            excess = len(self.items) - MAX_ROWS
            if excess > 0 and self.top - excess >= 0:
                del self.items[:excess]
                self.selected -= excess
                self.top -= excess
                self.at_start = False
        else:
            self.items[:0] = rows
            self.selected += len(rows)
            self.top += len(rows)
            self.at_start = message.exhausted
            excess = len(self.items) - MAX_ROWS
            if excess > 0 and len(self.items) - excess > self.top + self.visible_rows:
                del self.items[-excess:]
                self.at_end = False
        self.refresh()
        if self._carry and (self._carry > 0) == message.forward:
            carry, self._carry = self._carry, 0
            self._move_to(self.selected + carry)

    def _prefetch(self) -> None:
        """Ask for the next page before the cursor reaches an edge."""
        if not self.items:
            return
        if not self.at_end and len(self.items) - self.selected < PAGE and True not in self._pending:
            self._pending.add(True)
            self._extend(self.filter, self.items[-1], True, self._generation)
        if not self.at_start and self.selected < PAGE and False not in self._pending:
            self._pending.add(False)
            self._extend(self.filter, self.items[0], False, self._generation)

    # ----- moving -------------------------------------------------------------------------

    def _move_to(self, index: int) -> None:
        if not self.items:
            return
        if index >= len(self.items) and not self.at_end:
            self._carry = max(0, self._carry) + index - (len(self.items) - 1)
        elif index < 0 and not self.at_start:
            self._carry = min(0, self._carry) + index
        index = max(0, min(index, len(self.items) - 1))
        if index == self.selected:
            self._prefetch()
            return
        previous, top = self.selected, self.top
        self.selected = index
        if self.selected < self.top:
            self.top = self.selected
        elif self.selected >= self.top + self.visible_rows:
            self.top = self.selected - self.visible_rows + 1
        if self.top == top:
            width = self.size.width
            self.refresh(Region(0, previous - top + 1, width, 1), Region(0, index - top + 1, width, 1))
        else:
            self.refresh()
        self.post_message(self.CursorMoved(self))
        self._prefetch()

    def action_cursor_up(self) -> None:
        """Highlight the row above."""
        self._move_to(self.selected - 1)

    def action_cursor_down(self) -> None:
        """Highlight the row below."""
        self._move_to(self.selected + 1)

    def action_page_up(self) -> None:
        """Move up one screen."""
        self._move_to(self.selected - self.visible_rows)

    def action_page_down(self) -> None:
        """Move down one screen."""
        self._move_to(self.selected + self.visible_rows)

    def action_first(self) -> None:
        """Jump to the most urgent, oldest row."""
        self.items, self.selected, self.top = [], 0, 0
        self.reload()

    def action_last(self) -> None:
        """Jump to the end of the queue."""
        self.items, self.selected, self.top = [], 0, 0
        self.reload(from_end=True)

    def on_resize(self) -> None:
        """Keep the highlighted row on screen after a resize."""
        if self.selected >= self.top + self.visible_rows:
            self.top = self.selected - self.visible_rows + 1

    def on_click(self, event) -> None:
        """Highlight the clicked row."""
        if event.y >= 1:
            self._move_to(self.top + event.y - 1)

    # ----- painting -----------------------------------------------------------------------

    def render_lines(self, crop):
        """Read the width once per paint instead of once per line."""
        self._paint_width = self.size.width
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """One line: the column header, a queue row, or blank."""
        width = self._paint_width or self.size.width
        base = self._style("base")
        if y == 0:
            return self._strip(self._header_segments(width), width, base)
        index = self.top + y - 1
        if index >= len(self.items):
            if y == 1 and not self.items and self.loaded:
                text = "  Nothing in this queue. Press / to change the filter."
                style = self._style("empty")
                return self._strip([Segment(text, style)], width, base)
            return Strip.blank(width, base)
        item = self.items[index]
        marked, cursor = item.key in self.marked, index == self.selected
        minute = int(self.clock().timestamp() // 60)
        if minute != self._lines_minute or len(self._lines) > 4 * MAX_ROWS:
            self._lines.clear()
            self._lines_minute = minute
        cache_key = (item.key, marked, cursor, width)
        strip = self._lines.get(cache_key)
        if strip is None:
            style = base
            if marked:
                style += self._style("marked")
            if cursor:
                style += self._style("cursor")
            strip = self._strip(self._row_segments(item, width, style), width, style)
            self._lines[cache_key] = strip
        return strip

    def _style(self, name: str) -> Style:
        """A component style (or "base"), cached until the styles or the focus change."""
        style = self._styles.get(name)
        if style is None:
            style = self.rich_style if name == "base" else self.get_component_rich_style(f"queue-table--{name}")
            self._styles[name] = style
        return style

    def notify_style_update(self) -> None:
        """Forget cached styles (and the lines painted with them) when the theme or CSS changes."""
        self._styles.clear()
        self._lines.clear()
        super().notify_style_update()

    def on_focus(self) -> None:
        """The cursor colour depends on focus."""
        self._styles.clear()
        self._lines.clear()
        self.refresh()

    def on_blur(self) -> None:
        """The cursor colour depends on focus."""
        self._styles.clear()
        self._lines.clear()
        self.refresh()

    @staticmethod
    def _strip(segments: list[Segment], width: int, style: Style) -> Strip:
        return Strip(segments).crop_extend(0, width, style)

    def columns(self, width: int) -> list[tuple[Column, int]]:
        """The columns shown at this width (the subject keeps priority; see console/columns.py)."""
        key = (width, not self.filter.messages)
        if self._layout_key != key:
            self._layout = layout(width, conversations=not self.filter.messages)
            self._layout_key = key
        return self._layout

    def _header_segments(self, width: int) -> list[Segment]:
        style = self._style("base") + self._style("header")
        cells = [fit(column.title, cell_width, column.right) for column, cell_width in self.columns(width)]
        return [Segment(" ".join(cells), style)]

    def _row_segments(self, item: QueueItem, width: int, style: Style) -> list[Segment]:
        now = self.clock()
        urgency = self._style(item.urgency) if item.urgency in ("critical", "high", "normal", "low") else Style()
        over = sla_fraction(item, now, self.sla_minutes) >= 1.0
        segments: list[Segment] = []
        for position, (column, cell_width) in enumerate(self.columns(width)):
            if position:
                segments.append(Segment(" ", style))
            text = cell_text(column.id, item, cell_width, column.width, now, marked=item.key in self.marked,
                             sla_minutes=self.sla_minutes)
            cell_style = style
            if column.id == "urgency":
                cell_style = style + urgency
            elif column.id == "waiting" and over:
                cell_style = style + self._style("over")
            segments.append(Segment(fit(text, cell_width, column.right), cell_style))
        return segments
