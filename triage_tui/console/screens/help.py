"""Help: every binding with its id and current key, and the query language."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from triage_tui.console.columns import narrowing_help
from triage_tui.console.format import FLAGS_HELP
from triage_tui.console.keymap import ALL_BINDINGS, HELP_BINDINGS, effective_key
from triage_tui.console.screens.base import TriageScreen
from triage_tui.store.queue import QUERY_HELP


def help_text(keymap: dict[str, str]) -> str:
    """The bindings table and the query language, as plain text."""
    lines: list[str] = []
    for group, bindings in ALL_BINDINGS.items():
        lines.append(group)
        for binding in bindings:
            key = effective_key(binding, keymap)
            lines.append(f"  {key:<16} {binding.description:<14} {binding.id or '':<22} {binding.tooltip}")
        lines.append("")
    lines += [FLAGS_HELP, narrowing_help(),
              "WAITING counts from the oldest customer message nobody has answered; # is the messages in it.",
              "Ctrl+P opens the command palette: every action by name (\"ticket: approve\").",
              "Remap any key in the config: [keymap] \"ticket.approve\" = \"ctrl+a\"", "",
              "Filter and search (press / on the queue)", QUERY_HELP]
    return "\n".join(lines)


class HelpScreen(TriageScreen):
    """What every key does."""

    BINDINGS = HELP_BINDINGS

    def compose_body(self) -> ComposeResult:
        """The help text."""
        with VerticalScroll(id="help"):
            yield Static(help_text(self.triage.keymap), markup=False)

    def on_mount(self) -> None:
        """Show the header figures."""
        self.show_chrome()

    def action_back(self) -> None:
        """Back."""
        self.app.pop_screen()
