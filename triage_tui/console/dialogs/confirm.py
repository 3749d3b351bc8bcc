"""Small modal dialogs: yes/no, a required reason, a category/urgency choice, a snooze time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static

from triage_tui.console.keymap import CONFIRM_BINDINGS, DIALOG_BINDINGS


class ConfirmDialog(ModalScreen[bool]):
    """Ask one yes/no question; the question states exactly what will happen."""

    BINDINGS = CONFIRM_BINDINGS

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "Cancel") -> None:
        super().__init__()
        self.question, self.yes, self.no = question, yes, no

    def compose(self) -> ComposeResult:
        """The question and two buttons."""
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-question", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.yes, variant="primary", id="yes")
                yield Button(self.no, id="no")

    def on_mount(self) -> None:
        """Focus the safe answer."""
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Answer with the pressed button."""
        self.dismiss(event.button.id == "yes")

    def action_confirm(self) -> None:
        """Answer yes."""
        self.dismiss(True)

    def action_cancel(self) -> None:
        """Answer no."""
        self.dismiss(False)


class ReasonDialog(ModalScreen[str | None]):
    """Ask for a reason that cannot be left blank."""

    BINDINGS = DIALOG_BINDINGS

    def __init__(self, question: str, *, placeholder: str = "reason", action: str = "Save") -> None:
        super().__init__()
        self.question, self.placeholder, self.action = question, placeholder, action

    def compose(self) -> ComposeResult:
        """The question, the reason field, an error line and the buttons."""
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-question", markup=False)
            yield Input(placeholder=self.placeholder, id="reason")
            yield Label("", id="reason-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.action, variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Start typing at once."""
        self.query_one("#reason", Input).focus()

    def _submit(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.query_one("#reason-error", Label).update("A reason is required.")
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(reason)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter saves (when there is a reason)."""
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Save or cancel."""
        if event.button.id == "save":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        """Give up without saving."""
        self.dismiss(None)


class ChangeDialog(ModalScreen[tuple[str, str] | None]):
    """Pick the category and urgency to approve with."""

    BINDINGS = DIALOG_BINDINGS

    def __init__(self, categories: list[str], urgencies: list[str], category: str, urgency: str) -> None:
        super().__init__()
        self.categories, self.urgencies = categories, urgencies
        self.category = category if category in categories else categories[0]
        self.urgency = urgency if urgency in urgencies else urgencies[0]

    def compose(self) -> ComposeResult:
        """Two selects and the buttons."""
        with Vertical(classes="dialog"):
            yield Static("Approve as a ticket with this category and urgency:", classes="dialog-question")
            yield Select([(c, c) for c in self.categories], value=self.category, allow_blank=False,
                         id="category")
            yield Select([(u, u) for u in self.urgencies], value=self.urgency, allow_blank=False,
                         id="urgency")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Approve", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Approve with the chosen values, or cancel."""
        if event.button.id != "save":
            self.dismiss(None)
            return
        category = self.query_one("#category", Select).value
        urgency = self.query_one("#urgency", Select).value
        self.dismiss((str(category), str(urgency)))

    def action_cancel(self) -> None:
        """Give up."""
        self.dismiss(None)


SNOOZE_CHOICES: list[tuple[str, Callable[[datetime], datetime]]] = [
    ("1 hour", lambda now: now + timedelta(hours=1)),
    ("4 hours", lambda now: now + timedelta(hours=4)),
    ("tomorrow 09:00 UTC", lambda now: (now + timedelta(days=1)).replace(hour=9, minute=0, second=0,
                                                                        microsecond=0)),
    ("1 week", lambda now: now + timedelta(days=7)),
]


class SnoozeDialog(ModalScreen[datetime | None]):
    """Pick how long to hide a message."""

    BINDINGS = DIALOG_BINDINGS

    def __init__(self, now: datetime) -> None:
        super().__init__()
        self.now = now

    def compose(self) -> ComposeResult:
        """The choices."""
        with Vertical(classes="dialog"):
            yield Static("Snooze until:", classes="dialog-question")
            yield OptionList(*[label for label, _ in SNOOZE_CHOICES], id="snooze-choices")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Snooze until the chosen time."""
        self.dismiss(SNOOZE_CHOICES[event.option_index][1](self.now))

    def action_cancel(self) -> None:
        """Give up."""
        self.dismiss(None)
