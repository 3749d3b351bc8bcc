"""The audit trail, newest first, filterable by action prefix and text."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from triage_tui.console import data
from triage_tui.console.keymap import AUDIT_BINDINGS
from triage_tui.console.screens.base import TriageScreen
from triage_tui.domain import AuditEvent

PAGE = 200


def parse_audit_filter(text: str) -> tuple[str | None, str | None]:
    """`action:ticket text words` -> (action prefix, text)."""
    action = None
    words = []
    for token in text.split():
        if token.lower().startswith("action:"):
            action = token.split(":", 1)[1] or None
        else:
            words.append(token)
    return action, " ".join(words) or None


class AuditScreen(TriageScreen):
    """Who did what, when, to which message, ticket and send."""

    BINDINGS = AUDIT_BINDINGS

    class Loaded(Message):
        """A page of audit rows."""

        def __init__(self, rows: list[tuple[int, AuditEvent]], append: bool) -> None:
            super().__init__()
            self.rows = rows
            self.append = append

    def __init__(self) -> None:
        super().__init__()
        self.filter_action: str | None = None
        self.filter_text: str | None = None
        self.oldest_id: int | None = None

    def compose_body(self) -> ComposeResult:
        """Filter line, the table, a status line."""
        yield Input(placeholder="filter: action:ticket text (Enter to apply)", id="audit-filter")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="audit-status", markup=False)

    def on_mount(self) -> None:
        """Columns, then the newest page."""
        self.show_chrome()
        table = self.query_one(DataTable)
        table.add_columns("time (UTC)", "actor", "action", "message", "ticket", "detail")
        table.focus()
        self.load(append=False)

    @work(thread=True, group="audit-load", exclusive=True, exit_on_error=False)
    def load(self, append: bool) -> None:
        """Read one page of the trail."""
        from triage_tui.store.audit import list_audit

        rows = data.run(list_audit, action=self.filter_action, text=self.filter_text,
                        before_id=self.oldest_id if append else None, limit=PAGE)
        self.post_message(self.Loaded(rows, append))

    def on_audit_screen_loaded(self, message: Loaded) -> None:
        """Show the rows."""
        table = self.query_one(DataTable)
        if not message.append:
            table.clear()
        for row_id, event in message.rows:
            detail = ", ".join(f"{k}={v}" for k, v in event.detail.items() if v not in (None, "", [], {}))
            table.add_row(event.at.strftime("%m-%d %H:%M:%S"), event.actor, event.action,
                          event.message_id[:24], event.ticket_id[:16], detail[:80], key=str(row_id))
        if message.rows:
            self.oldest_id = message.rows[-1][0]
        more = "m for older rows" if len(message.rows) == PAGE else "end of the trail"
        self.query_one("#audit-status", Static).update(f"{table.row_count} rows shown · {more}")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Apply the filter."""
        self.filter_action, self.filter_text = parse_audit_filter(event.value)
        self.oldest_id = None
        self.query_one(DataTable).focus()
        self.load(append=False)

    def action_filter(self) -> None:
        """Edit the filter."""
        self.query_one("#audit-filter", Input).focus()

    def action_more(self) -> None:
        """Load older rows."""
        self.load(append=True)

    def action_back(self) -> None:
        """Back."""
        if isinstance(self.focused, Input):
            self.query_one(DataTable).focus()
            return
        self.app.pop_screen()
