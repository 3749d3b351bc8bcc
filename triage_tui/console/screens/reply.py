"""Reply: edit the draft (TextArea or $EDITOR), then review exactly what will be sent."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from triage_tui.console.keymap import REPLY_BINDINGS, REVIEW_BINDINGS
from triage_tui.console.screens.base import TriageScreen
from triage_tui.domain import Address, QueueItem, Reply


def _emails(addresses: list[Address]) -> str:
    return ", ".join(a.email for a in addresses) or "(nobody)"


class ReplyEditScreen(TriageScreen):
    """The draft: recipients computed by the application, subject and body editable."""

    BINDINGS = REPLY_BINDINGS
    DECIDES = "reply"

    def __init__(self, item: QueueItem, reply: Reply, choice) -> None:
        super().__init__()
        self.item = item
        self.reply = reply
        self.choice = choice

    def compose_body(self) -> ComposeResult:
        """Recipients, subject and body."""
        with Vertical(id="reply-form"):
            yield Static(f"Reply to {self.item.sender}: recipients are computed from the original message.",
                         id="reply-title", markup=False)
            if self.choice.warning:
                yield Static(f"⚠ {self.choice.warning}", classes="mail-warning", markup=False)
            options = [(f"To: {_emails(self.choice.to)} (computed)", "computed")]
            options += [(f"To: {a.email} (explicit choice)", a.email) for a in self.choice.alternatives]
            yield Select(options, value="computed", allow_blank=False, id="recipients",
                         disabled=len(options) == 1)
            yield Input(self.reply.subject, id="subject")
            yield TextArea(self.reply.body, id="body", soft_wrap=True)
            yield Label("", id="reply-error", classes="dialog-error")

    def on_mount(self) -> None:
        """Start in the body."""
        self.show_chrome()
        self.query_one("#body", TextArea).focus()

    def current_reply(self) -> tuple[Reply, bool]:
        """The reply as it stands now, and whether its recipient was an explicit choice."""
        choice = self.query_one("#recipients", Select).value
        explicit = choice != "computed"
        to = [a for a in self.choice.alternatives if a.email == choice] if explicit else list(self.choice.to)
        reply = self.reply.model_copy(update={
            "to": to,
            "subject": self.query_one("#subject", Input).value,
            "body": self.query_one("#body", TextArea).text,
        })
        return reply, explicit

    def action_review(self) -> None:
        """Show exactly what will be sent."""
        reply, explicit = self.current_reply()
        error = self.query_one("#reply-error", Label)
        if not reply.to:
            error.update("There is nobody this reply may go to.")
            return
        if not reply.body.strip():
            error.update("The body is empty.")
            return
        error.update("")

        def decided(answer: str | None) -> None:
            if answer == "send":
                self.triage.approve_reply(self.item, reply, explicit)
            elif answer == "cancel":
                self.app.pop_screen()

        self.app.push_screen(ReplyReviewScreen(reply, self.choice.warning), decided)

    def action_editor(self) -> None:
        """Edit the body in $EDITOR (the console steps aside meanwhile)."""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        area = self.query_one("#body", TextArea)
        with tempfile.NamedTemporaryFile("w+", suffix=".txt", delete=False, encoding="utf-8") as handle:
            handle.write(area.text)
            path = handle.name
        try:
            with self.app.suspend():
                subprocess.call([*shlex.split(editor), path])
            with open(path, encoding="utf-8") as handle:
                area.text = handle.read()
        except Exception as exc:  # the editor is the user's program: report, never crash
            self.notify(f"editor failed: {exc}", severity="error")
        finally:
            os.unlink(path)

    def action_cancel(self) -> None:
        """Drop the draft."""
        self.app.pop_screen()

    def decided(self, keys: list[int]) -> None:
        """A reply approval for this message landed: close the draft."""
        if self.item.key in keys and self.app.screen is self:
            self.app.pop_screen()


class ReplyReviewScreen(ModalScreen[str]):
    """Exactly what will be sent: recipients, subject, body; send, edit or cancel."""

    BINDINGS = REVIEW_BINDINGS

    def __init__(self, reply: Reply, warning: str) -> None:
        super().__init__()
        self.reply = reply
        self.warning = warning

    def compose(self) -> ComposeResult:
        """The exact message and three buttons."""
        with Vertical(classes="dialog", id="review"):
            yield Static("This is exactly what will be sent once approved:", classes="dialog-question")
            lines = [f"To: {_emails(self.reply.to)}"]
            if self.reply.cc:
                lines.append(f"Cc: {_emails(self.reply.cc)}")
            lines.append(f"Subject: {self.reply.subject}")
            yield Static("\n".join(lines), id="review-envelope", markup=False)
            if self.warning:
                yield Static(f"⚠ {self.warning}", classes="mail-warning", markup=False)
            with VerticalScroll(id="review-body"):
                yield Static(self.reply.body, markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send (ctrl+s)", variant="primary", id="send")
                yield Button("Edit (e)", id="edit")
                yield Button("Cancel (esc)", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Answer with the pressed button."""
        self.dismiss(event.button.id or "cancel")

    def action_answer(self, answer: str) -> None:
        """Answer send, edit or cancel."""
        self.dismiss(answer)
