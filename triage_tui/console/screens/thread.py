"""The thread screen: the whole thread readable, the suggestion beside it, decisions on keys."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static

from triage_tui.console import data
from triage_tui.console.dialogs.confirm import ConfirmDialog
from triage_tui.console.keymap import DECISION_BINDINGS, THREAD_BINDINGS
from triage_tui.console.screens.base import DecidingScreen
from triage_tui.console.widgets.thread_view import ThreadView, suggestion_text
from triage_tui.domain import MessageDetail, QueueItem


class ThreadScreen(DecidingScreen):
    """A conversation (or one message in the message view) with its whole thread and its suggestion."""

    BINDINGS = THREAD_BINDINGS + DECISION_BINDINGS

    class Loaded(Message):
        """The detail read from the store (None: the message is gone)."""

        def __init__(self, detail: MessageDetail | None, lease_note: str) -> None:
            super().__init__()
            self.detail = detail
            self.lease_note = lease_note

    def __init__(self, item: QueueItem) -> None:
        super().__init__()
        self.item = item
        self.detail: MessageDetail | None = None
        self.show_headers = False
        self.unfold_quotes = False

    def compose_body(self) -> ComposeResult:
        """Thread on the left, suggestion on the right."""
        yield Static(_title(self.item), id="thread-title", markup=False)
        with Horizontal(id="thread-body"):
            yield ThreadView(id="thread")
            yield Static("Loading…", id="suggestion", markup=False)

    def on_mount(self) -> None:
        """Read the thread in a worker."""
        self.show_chrome()
        self.load()

    @work(thread=True, group="thread-load", exclusive=True, exit_on_error=False)
    def load(self) -> None:
        """Read the detail and take the review lease."""
        from triage_tui.store.leases import take_review_lease
        from triage_tui.store.threads import message_detail

        holder = self.triage.operator
        # Taken, then read, both on the wall clock every console shares (not the display clock, which
        # tests fix): the panel shows the lease just taken, on every machine.
        lease = data.run(take_review_lease, self.item.decision_key, holder=holder)
        note = (f"{lease.holder} is already reviewing this conversation"
                if not lease.taken and lease.holder != holder else "")
        detail = data.run(message_detail, self.item.decision_key)
        self.post_message(self.Loaded(detail, note))

    async def on_thread_screen_loaded(self, message: Loaded) -> None:
        """Show the thread and the suggestion."""
        if message.lease_note:
            self.app.push_screen(
                ConfirmDialog(f"{message.lease_note}. Take it over? They will see your name instead.",
                              yes="Take over", no="Just read"),
                self._take_over_answered,
            )
        if message.detail is None:
            self.query_one("#suggestion", Static).update("This message is no longer in the store.")
            return
        self.detail = message.detail
        fresh = message.detail.conversation if self.item.conversation else message.detail.item
        if fresh is not None:
            self.item = fresh.model_copy(update={"lease_holder": self.item.lease_holder or fresh.lease_holder})
        self.query_one("#thread-title", Static).update(_title(self.item))
        await self._show_detail()

    def _take_over_answered(self, take_over: bool | None) -> None:
        if take_over:
            self.take_over()

    @work(thread=True, group="thread-lease", exclusive=True, exit_on_error=False)
    def take_over(self) -> None:
        """Take the review lease from its holder, after the person confirmed."""
        from triage_tui.store.leases import take_review_lease

        lease = data.run(take_review_lease, self.item.decision_key, holder=self.triage.operator, force=True)
        self.app.call_from_thread(self.notify, f"You now hold this message (was {lease.previous_holder}).")

    async def _show_detail(self) -> None:
        if self.detail is None:
            return
        await self.query_one(ThreadView).show(self.detail, show_headers=self.show_headers,
                                         unfold_quotes=self.unfold_quotes)
        self.query_one("#suggestion", Static).update(suggestion_text(self.detail, self.triage.clock()))

    def on_unmount(self) -> None:
        """Give the review lease back (it expires by itself if the app is already closing)."""
        if self.app.is_running and not self.app._exit:
            self.triage.release_lease(self.item.decision_key)

    def target_items(self) -> list[QueueItem]:
        """The conversation (or message) on screen."""
        return [self.item]

    def decided(self, keys: list[int]) -> None:
        """A decision about this message landed: back to the queue."""
        if self.item.key in keys and self.app.screen is self:
            self.app.pop_screen()

    def action_back(self) -> None:
        """Back to the queue."""
        self.app.pop_screen()

    def action_toggle_headers(self) -> None:
        """Show or hide the raw headers."""
        self.show_headers = not self.show_headers
        self.run_worker(self._show_detail(), group="thread-show", exclusive=True)

    def action_toggle_quotes(self) -> None:
        """Unfold or fold quoted text."""
        self.unfold_quotes = not self.unfold_quotes
        self.run_worker(self._show_detail(), group="thread-show", exclusive=True)


def _title(item: QueueItem) -> str:
    """Subject, how many messages, and the ticket with its status."""
    parts = [item.subject or "(no subject)"]
    if item.conversation:
        parts.append(f"{item.message_count} message{'s' if item.message_count != 1 else ''}")
    if item.ticket_id:
        parts.append(f"{item.ticket_id} {item.ticket_status}".strip())
    return " · ".join(parts)
