"""The queue screen: filter line, the keyset-paged queue table and a status line."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Label

from triage_tui.console.keymap import DECISION_BINDINGS, QUEUE_BINDINGS
from triage_tui.console.screens.base import DecidingScreen
from triage_tui.console.widgets.queue_table import QueueTable
from triage_tui.console.widgets.status_line import StatusLine
from triage_tui.domain import QueueItem
from triage_tui.store.query_language import toggle_view
from triage_tui.store.queue import QueryError, parse_query


class QueueScreen(DecidingScreen):
    """What needs a person, most urgent and oldest first."""

    BINDINGS = QUEUE_BINDINGS + DECISION_BINDINGS

    def compose_body(self) -> ComposeResult:
        """Filter, error line, table, status line."""
        yield Input(placeholder="filter: cat:billing urg:high status:pending from:acme.com words  "
                                "(/ to edit, Enter to apply, v messages, ? for help)", id="filter")
        yield Label("", id="filter-error")
        config = self.triage.config
        yield QueueTable(clock=self.triage.clock, sla_minutes=config.console.sla_minutes, id="queue")
        yield StatusLine(id="queue-status")

    @property
    def table(self) -> QueueTable:
        """The queue table."""
        return self.query_one(QueueTable)

    def on_mount(self) -> None:
        """Load the first window and put the cursor in the table."""
        self.show_chrome()
        self.table.focus()
        self.table.reload()

    def target_items(self) -> list[QueueItem]:
        """The marked rows, or the highlighted one."""
        if self.table.marked:
            return list(self.table.marked.values())
        return [self.table.current] if self.table.current else []

    def queue_changed(self) -> None:
        """Something in the store changed: re-read the window without moving the cursor."""
        for table in self.query(QueueTable):  # none yet when a poll lands before the screen composed
            table.reload()

    def decided(self, keys: list[int]) -> None:
        """A decision landed: forget its marks and re-read."""
        for key in keys:
            self.table.marked.pop(key, None)
        self.table.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Apply the filter, or show what is wrong with it."""
        if event.input.id == "filter":
            self.apply_filter(event.value)

    def apply_filter(self, text: str) -> None:
        """Parse the filter text and show its rows, or say what is wrong with it."""
        config = self.triage.config.classifier
        error = self.query_one("#filter-error", Label)
        try:
            flt = parse_query(text, categories=config.categories, urgencies=config.urgencies)
        except QueryError as exc:
            error.update(f"filter: {exc}")
            error.add_class("-shown")
            return
        error.update("")
        error.remove_class("-shown")
        self.table.set_filter(flt)
        self.table.focus()

    def on_queue_table_cursor_moved(self, event: QueueTable.CursorMoved) -> None:
        """Update the status line; the first painted window starts the app's polling."""
        table = event.table
        if table.loaded:
            self.call_after_refresh(self.triage.start_polling)
        count = f"{table.count:,}{'+' if table.count >= 10_000 else ''}"
        rows = "messages" if table.filter.messages else "conversations"
        parts = [f"{count} {rows} in this view"]
        if table.marked:
            parts.append(f"{len(table.marked)} marked (decisions apply to all marked)")
        current = table.current
        if current is not None:
            ticket = f" · {current.ticket_id} {current.ticket_status}" if current.ticket_id else ""
            parts.append(f"{current.grant_id}/{current.thread_id or current.message_id}{ticket}")
        self.query_one("#queue-status", StatusLine).set_text(" · ".join(parts))

    def action_open(self) -> None:
        """Read the highlighted thread."""
        if isinstance(self.focused, Input):
            return
        if self.table.current is not None:
            self.triage.open_thread(self.table.current)

    def action_mark(self) -> None:
        """Mark or unmark the highlighted row."""
        self.table.toggle_mark()
        self.table.action_cursor_down()

    def action_filter(self) -> None:
        """Edit the filter."""
        self.query_one("#filter", Input).focus()

    def action_toggle_view(self) -> None:
        """Switch between one row per conversation and one row per message (view:messages)."""
        if isinstance(self.focused, Input):
            return
        box = self.query_one("#filter", Input)
        box.value = toggle_view(box.value)
        self.apply_filter(box.value)

    def action_clear_marks(self) -> None:
        """Back to the table; a second Escape clears the marks."""
        if isinstance(self.focused, Input):
            self.table.focus()
            return
        self.table.clear_marks()
