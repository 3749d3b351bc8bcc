"""The first-run screen: no inbox is configured yet, so say how to get one (or how to just try it)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

WELCOME_BINDINGS = [
    Binding("enter", "open_queue", "Open the queue anyway", id="welcome.open_queue",
            tooltip="The (empty) queue, e.g. for a console on a team's shared database"),
]


def welcome_text(config_file: str) -> str:
    """What a new user reads, as plain text."""
    where = f"The config {config_file} names no [[inboxes]]." if config_file else "No config file names an inbox."
    return "\n".join([
        "No inbox is configured yet.",
        "",
        where,
        "",
        "Use a real Nylas Agent Account:",
        "  export NYLAS_API_KEY=...     your key, from the Nylas Dashboard",
        "  triage-tui init              creates or reuses the account, its guardrails and webhook,",
        "                               and writes the config",
        "  triage-tui doctor            checks that everything works",
        "  triage-tui                   this console, on your inbox",
        "",
        "Or just try it:",
        "  triage-tui demo              a sandbox mailbox with live mail; nothing leaves this machine",
        "",
        "Ctrl+Q quits.",
    ])


class WelcomeScreen(Screen):
    """Shown instead of an empty queue when the config has no inbox."""

    BINDINGS = WELCOME_BINDINGS

    def __init__(self, config_file: str = "") -> None:
        super().__init__()
        self.config_file = config_file

    def compose(self) -> ComposeResult:
        """The guidance, centred, and the footer."""
        with VerticalScroll(id="welcome"):
            with Center():
                yield Static(welcome_text(self.config_file), id="welcome-text", markup=False)
        yield Footer()

    def action_open_queue(self) -> None:
        """Replace this screen with the queue."""
        from triage_tui.console.screens.queue import QueueScreen

        self.app.switch_screen(QueueScreen())
