"""The frame every console screen shares (header, stop banner, footer) and the decision actions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from triage_tui.console.dialogs.confirm import ChangeDialog, ConfirmDialog, ReasonDialog, SnoozeDialog
from triage_tui.console.widgets.chrome import StatusHeader, StopBanner
from triage_tui.domain import DecisionKind, QueueItem

if TYPE_CHECKING:
    from triage_tui.console.app import TriageApp


class TriageScreen(Screen):
    """A screen with the status header and the stop-switch banner on top, the footer below."""

    @property
    def triage(self) -> "TriageApp":
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        """Header, banner, the screen's body, footer."""
        config = self.triage.config
        yield StatusHeader(config.environment, config.tenant_id, id="status-header")
        yield StopBanner(self.triage.key_display("app.stop_switch"), id="stop-banner")
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets."""
        yield from ()

    def on_screen_resume(self) -> None:
        """Show the latest header figures and stop-switch state on arrival."""
        self.show_chrome()

    def show_chrome(self) -> None:
        """Repaint the header and banner from the app's last poll."""
        app = self.triage
        now = app.clock()
        for header in self.query(StatusHeader):
            header.show(app.stats, app.stop, app.progress, now)
        for banner in self.query(StopBanner):
            banner.show(app.stop, now, app.config.outbound.stop_switch_alert_after_s)


class DecidingScreen(TriageScreen):
    """A screen whose bindings decide about the highlighted (or the marked) messages."""

    def target_items(self) -> list[QueueItem]:
        """The marked messages, or the highlighted one."""
        return []

    def _targets(self) -> list[QueueItem] | None:
        items = self.target_items()
        if not items:
            self.notify("Nothing selected.", severity="warning")
            return None
        return items

    def _confirm_batch(self, items: list[QueueItem], what: str, then) -> None:
        if len(items) == 1:
            then()
            return
        rows = "conversations" if items[0].conversation else "messages"
        question = f"{what} {len(items)} marked {rows}?"

        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmDialog(question, yes=f"{what} {len(items)}"), answered)

    def action_approve(self) -> None:
        """Approve as suggested: a ticket with the suggested category and urgency."""
        items = self._targets()
        if items:
            self._confirm_batch(items, "Approve as tickets", lambda: self.triage.decide(
                DecisionKind.APPROVE_TICKET, items))

    def action_change(self) -> None:
        """Pick another category or urgency, then approve."""
        items = self._targets()
        if not items:
            return
        config = self.triage.config.classifier

        def chosen(choice: tuple[str, str] | None) -> None:
            if choice:
                self._confirm_batch(items, f"Approve as {choice[0]}/{choice[1]}", lambda: self.triage.decide(
                    DecisionKind.APPROVE_TICKET, items, category=choice[0], urgency=choice[1]))

        first = items[0]
        self.app.push_screen(ChangeDialog(config.categories, config.urgencies, first.category,
                                          first.urgency), chosen)

    def action_reject(self) -> None:
        """Reject; a reason is required before anything is saved."""
        items = self._targets()
        if not items:
            return
        rows = "conversations" if items[0].conversation else "messages"
        what = f"this {rows[:-1]}" if len(items) == 1 else f"{len(items)} marked {rows}"

        def reasoned(reason: str | None) -> None:
            if reason:
                self.triage.decide(DecisionKind.REJECT, items, reason=reason)

        self.app.push_screen(ReasonDialog(f"Reject {what}: why?", placeholder="reason (required)",
                                          action="Reject"), reasoned)

    def action_snooze(self) -> None:
        """Hide until a chosen time."""
        items = self._targets()
        if not items:
            return

        def until(moment) -> None:
            if moment is not None:
                self._confirm_batch(items, "Snooze", lambda: self.triage.decide(
                    DecisionKind.SNOOZE, items, until=moment))

        self.app.push_screen(SnoozeDialog(self.triage.clock()), until)

    def action_dismiss_spam(self) -> None:
        """Dismiss as spam."""
        items = self._targets()
        if items:
            self._confirm_batch(items, "Dismiss as spam", lambda: self.triage.decide(
                DecisionKind.DISMISS_SPAM, items))

    def action_solve(self) -> None:
        """Solve the ticket: it leaves the queue until the customer writes again."""
        items = self._targets()
        if items:
            self._confirm_batch(items, "Solve the tickets of", lambda: self.triage.decide(
                DecisionKind.SOLVE_TICKET, items))

    def action_reopen(self) -> None:
        """Reopen a pending or solved ticket."""
        items = self._targets()
        if items:
            self._confirm_batch(items, "Reopen the tickets of", lambda: self.triage.decide(
                DecisionKind.REOPEN_TICKET, items))

    def action_reply(self) -> None:
        """Draft a reply to the conversation's latest customer message (it needs a ticket first)."""
        items = self._targets()
        if not items:
            return
        if len(items) > 1:
            self.notify("Reply works on one conversation: unmark the others first.", severity="warning")
            return
        item = items[0]
        if item.ticket_id:
            self.triage.draft_reply(item)
            return
        category = item.category or "?"

        def answered(yes: bool | None) -> None:
            if yes:
                self.triage.draft_reply(item, approve_first=True)

        self.app.push_screen(ConfirmDialog(
            f"This conversation has no ticket yet. Approve it as {category}/{item.urgency} and draft a "
            "reply that carries the ticket's reference?", yes="Approve and reply"), answered)
