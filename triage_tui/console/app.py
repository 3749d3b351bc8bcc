"""The console app: wiring only; screens and widgets do the showing, the store does the work."""

from __future__ import annotations

import getpass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from textual import work
from textual.app import App
from textual.worker import Worker, WorkerState

from triage_tui.config import Config
from triage_tui.console import data
from triage_tui.console.dialogs.confirm import ConfirmDialog, ReasonDialog
from triage_tui.console.keymap import APP_BINDINGS, split_keymap
from triage_tui.console.live import SLOW_POLL_S, FeedEvent, FeedListener
from triage_tui.console.messages import ActionDone, Polled, ReplyDrafted, StopQuestion
from triage_tui.console.palette import TriageCommands
from triage_tui.console.screens.audit import AuditScreen
from triage_tui.console.screens.base import TriageScreen
from triage_tui.console.screens.help import HelpScreen
from triage_tui.console.screens.queue import QueueScreen
from triage_tui.console.screens.reply import ReplyEditScreen
from triage_tui.console.screens.thread import ThreadScreen
from triage_tui.console.themes import DEFAULT_THEME, VARIABLE_DEFAULTS, bundled_theme_dir, load_themes, \
    user_theme_dir
from triage_tui.console.trackers import TrackerActions, read_header
from triage_tui.domain import DecisionKind, QueueItem, Reply, StopSwitch
from triage_tui.store.changes import RECONNECTED

Clock = Callable[[], datetime]
STATS_EVERY_S = 5.0


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(timezone.utc)


class TriageApp(TrackerActions, App[None]):
    """The triage console."""

    CSS_PATH = "styles/app.tcss"
    TITLE = "triage-tui"
    BINDINGS = APP_BINDINGS
    COMMANDS = App.COMMANDS | {TriageCommands}

    def __init__(self, config: Config, *, clock: Clock | None = None, worker: object | None = None,
                 poll_interval_s: float = 0.5, operator: str | None = None,
                 theme_dirs: list[Path] | None = None, config_file: str = "",
                 trackers: object | None = None) -> None:
        super().__init__()
        self.config = config
        self.config_file = config_file
        self.clock: Clock = clock or system_clock
        self.ingest_worker = worker
        self.tracker_dispatcher = trackers
        self.poll_interval_s = poll_interval_s
        self.operator = operator or config.console.operator or getpass.getuser()
        self.theme_dirs = theme_dirs if theme_dirs is not None else [bundled_theme_dir(), user_theme_dir()]
        self.keymap, self.unknown_keymap_ids = split_keymap(config.keymap)
        self.stop = StopSwitch()
        self.stats = None
        self.progress = None
        self._version: object = None
        self._stats_at = 0.0
        self._asking_stop = False
        self._polling = None
        self._requery = False
        self.feed = FeedListener(self, config.database.resolved_url())
        self.feed_healthy = False
        self._setup_themes()

    # ----- start-up ---------------------------------------------------------------------------

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """The console's own colours, for themes that do not set them."""
        return dict(VARIABLE_DEFAULTS)

    def _setup_themes(self) -> None:
        loaded = load_themes(*self.theme_dirs)
        for theme in loaded.themes.values():
            self.register_theme(theme)
        problems = list(loaded.errors)
        wanted = self.config.console.theme
        fallback = DEFAULT_THEME if DEFAULT_THEME in loaded.themes else "textual-dark"
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            problems.append(f"theme {wanted!r} is not available")
            self.theme = fallback
        self._theme_problems = problems

    def on_mount(self) -> None:
        """Apply the keymap, report config problems once, show the queue, start polling."""
        self.set_keymap(self.keymap)
        if self._theme_problems:
            self.notify("; ".join(self._theme_problems) + f" (using {self.theme})", title="Theme",
                        severity="warning", timeout=10, markup=False)
        if self.unknown_keymap_ids:
            self.notify(f"[keymap] names unknown binding ids: {', '.join(self.unknown_keymap_ids)}; "
                        f"see the help screen (?) for the ids", severity="warning", timeout=10, markup=False)
        if self.config.inboxes:
            self.push_screen(QueueScreen())
        else:
            from triage_tui.console.screens.welcome import WelcomeScreen

            self.push_screen(WelcomeScreen(self.config_file))
        self.set_timer(1.0, self.start_polling)

    def start_polling(self) -> None:
        """Begin the periodic poll (once the first queue window is painted, or after a second)."""
        if self._polling is None:
            self.poll()
            self._polling = self.set_interval(self.poll_interval_s, self.poll)
            self.feed.start()

    def on_feed_event(self, event: FeedEvent) -> None:
        """Poll now when another process wrote; slow the fallback poll while the feed is healthy."""
        if event.healthy != self.feed_healthy and self._polling is not None:
            self.feed_healthy = event.healthy
            self._polling.stop()
            interval = max(SLOW_POLL_S, self.poll_interval_s) if event.healthy else self.poll_interval_s
            self._polling = self.set_interval(interval, self.poll)
        if RECONNECTED in event.tables:
            self._requery = True
        if event.tables:
            self.poll()

    def on_unmount(self) -> None:
        """Stop listening for changes."""
        self.feed.stop()

    def key_display(self, binding_id: str) -> str:
        """The key a binding answers to, for messages like "F9 to lift"."""
        default = next((b.key for b in APP_BINDINGS if b.id == binding_id), "")
        key = self.keymap.get(binding_id, default).split(",")[0]
        return key.upper() if len(key) <= 3 else key

    # ----- polling ----------------------------------------------------------------------------

    @work(thread=True, group="poll", exclusive=True, exit_on_error=False)
    def poll(self) -> None:
        """Read the queue version, the stop switch and (when due) the header figures."""
        from triage_tui.store.control import read_stop_switch
        from triage_tui.store.queue import queue_version

        now = self.clock().timestamp()

        def read():
            version = queue_version(now=now)
            due = version != self._version or self.stats is None or abs(now - self._stats_at) >= STATS_EVERY_S
            header = read_header(self.config, now, self.tracker_dispatcher) if due else None
            return version, read_stop_switch(now), header

        version, stop, stats = data.run(read)
        progress = self.ingest_worker.progress() if self.ingest_worker is not None else None
        self.post_message(Polled(version, stop, stats, progress))

    def on_polled(self, message: Polled) -> None:
        """Repaint every screen's header and banner; re-read the queue when it changed."""
        changed = self._version is not None and (message.version != self._version or self._requery)
        self._requery = False
        self._version = message.version
        self.stop = message.stop
        self.progress = message.progress
        if message.stats is not None:
            self._announce_new_failures(message.stats)
            self.stats = message.stats
            self._stats_at = self.clock().timestamp()
        for screen in list(self.screen_stack):
            if isinstance(screen, TriageScreen):
                screen.show_chrome()
            if changed and isinstance(screen, QueueScreen):
                screen.queue_changed()

    def _announce_new_failures(self, stats) -> None:
        """A send that failed or needs a human is never buried: say so as it happens."""
        before = self.stats.send_failures if self.stats is not None else 0
        if stats.send_failures > before:
            self.notify(f"Send needs attention: {stats.latest_failure}", severity="error",
                        timeout=30, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One place where a failed worker becomes a toast instead of a crash."""
        if event.state == WorkerState.ERROR:
            from triage_tui.store.transient import describe, is_database_error

            error = event.worker.error
            text = describe(error) if is_database_error(error) else str(error)
            self.notify(f"{event.worker.name}: {text}", severity="error", markup=False)

    # ----- navigation -------------------------------------------------------------------------

    def open_thread(self, item: QueueItem) -> None:
        """Read a message in its thread."""
        self.push_screen(ThreadScreen(item))

    def action_help(self) -> None:
        """Every binding and the query language."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_audit(self) -> None:
        """The audit trail."""
        if not isinstance(self.screen, AuditScreen):
            self.push_screen(AuditScreen())

    @work(thread=True, group="sync", exclusive=True, exit_on_error=False)
    def action_sync_now(self) -> None:
        """Ask the in-process worker to poll now."""
        if self.ingest_worker is None:
            self.call_from_thread(self.notify, "No worker runs in this console.", severity="warning")
            return
        self.ingest_worker.sync_now()

    @work(thread=True, group="lease", exit_on_error=False)
    def release_lease(self, key: int) -> None:
        """Give back the review lease on a message."""
        from triage_tui.store.leases import release_review_lease

        data.run(release_review_lease, key, holder=self.operator)

    # ----- the stop switch --------------------------------------------------------------------

    def action_stop_switch(self) -> None:
        """Pause every send (asks why) or lift the pause (says how many sends wait)."""
        if not self._asking_stop:
            self._asking_stop = True
            self._read_stop()

    @work(thread=True, group="stop", exclusive=True, exit_on_error=False)
    def _read_stop(self) -> None:
        from triage_tui.store.control import read_stop_switch
        from triage_tui.store.outbox import count_waiting

        self.post_message(StopQuestion(*data.run(lambda: (read_stop_switch(), count_waiting()))))

    def on_stop_question(self, message: StopQuestion) -> None:
        """Ask the question that fits the switch's state."""
        def paused(reason: str | None) -> None:
            self._asking_stop = False
            if reason:
                self._flip_stop(True, reason)

        def lifted(yes: bool | None) -> None:
            self._asking_stop = False
            if yes:
                self._flip_stop(False, "")

        if not message.stop.on:
            self.push_screen(ReasonDialog("Pause every send now? Say why (everyone sees it):",
                                          placeholder="reason (required)", action="Pause sends"), paused)
            return
        waiting = message.waiting
        sends = "1 send is" if waiting == 1 else f"{waiting} sends are"
        self.push_screen(ConfirmDialog(f"Lift the stop switch set by {message.stop.actor}? {sends} waiting "
                                       f"and will start going out.", yes="Lift the pause"), lifted)

    @work(thread=True, group="stop-flip", exit_on_error=False)
    def _flip_stop(self, on: bool, reason: str) -> None:
        from triage_tui.store.control import set_stop_switch

        data.run(set_stop_switch, on, actor=self.operator, reason=reason, tenant_id=self.config.tenant_id,
                 environment=self.config.environment)
        self.post_message(ActionDone("Sends paused." if on else "Stop switch lifted: sends resume."))

    # ----- decisions and replies --------------------------------------------------------------

    @work(thread=True, group="decide", exit_on_error=False)
    def decide(self, kind: DecisionKind, items: list[QueueItem], *, reason: str = "",
               category: str | None = None, urgency: str | None = None, until: datetime | None = None) -> None:
        """Record a decision about one or many conversations (a decision and audit row each)."""
        from triage_tui.store import decisions

        keys = [item.decision_key for item in items]
        who = dict(actor=self.operator, config=self.config, now=self.clock())
        rows = "conversations" if items[0].conversation else "messages"
        try:
            with data.connection():
                if len(keys) > 1:
                    decisions.decide_batch(keys, kind, reason=reason, category=category, urgency=urgency,
                                           until=until, **who)
                    text = f"{kind.value.replace('_', ' ')}: {len(keys)} {rows}"
                elif kind == DecisionKind.APPROVE_TICKET:
                    shown = items[0].category if category is None else None
                    ticket = decisions.approve_ticket(keys[0], category=category, urgency=urgency,
                                                      shown_category=shown, **who)
                    text = f"Ticket {ticket.ticket_id} ({ticket.category}/{ticket.urgency}) is {ticket.status}"
                elif kind == DecisionKind.REJECT:
                    decisions.reject(keys[0], reason=reason, **who)
                    text = "Rejected."
                elif kind == DecisionKind.SNOOZE:
                    decisions.snooze(keys[0], until=until, **who)
                    text = f"Snoozed until {until:%Y-%m-%d %H:%M} UTC."
                elif kind == DecisionKind.SOLVE_TICKET:
                    ticket = decisions.solve_ticket(keys[0], **who)
                    text = f"Ticket {ticket.ticket_id} solved: it reopens if the customer writes again."
                elif kind == DecisionKind.REOPEN_TICKET:
                    ticket = decisions.reopen_ticket(keys[0], **who)
                    text = f"Ticket {ticket.ticket_id} reopened."
                else:
                    decisions.dismiss_spam(keys[0], **who)
                    text = "Dismissed as spam."
        except ValueError as exc:
            self.post_message(ActionDone("", error=str(exc)))
            return
        self.post_message(ActionDone(text, keys=[item.key for item in items], what="decision"))

    @work(thread=True, group="reply-draft", exclusive=True, exit_on_error=False)
    def draft_reply(self, item: QueueItem, *, approve_first: bool = False) -> None:
        """Draft a reply to the latest customer message from the category template, with the ticket's reference."""
        from triage_tui.outbound.approval import own_emails
        from triage_tui.outbound.recipients import compute_recipients
        from triage_tui.outbound.templates import draft_reply
        from triage_tui.store import decisions

        if approve_first:
            try:
                ticket = data.run(decisions.approve_ticket, item.decision_key, actor=self.operator,
                                  config=self.config, now=self.clock(), shown_category=item.category)
            except ValueError as exc:
                self.post_message(ActionDone("", error=f"not approved, so no reply: {exc}"))
                return
            self.post_message(ActionDone(f"Ticket {ticket.ticket_id} ({ticket.category}/{ticket.urgency}) is open",
                                         what="approved-for-reply"))
        detail = data.message_detail(item.decision_key)
        inbox = self.config.inbox(item.grant_id)
        if detail is None or inbox is None:
            self.post_message(ActionDone("", error="cannot reply: the message or its inbox is not configured"))
            return
        choice = compute_recipients(detail.message, self.config.outbound, agent_email=inbox.email,
                                    own_emails=own_emails(self.config))
        category = detail.suggestion.category if detail.suggestion else item.category
        ticket_id = detail.conversation.ticket_id if detail.conversation else detail.item.ticket_id
        draft = draft_reply(detail.message, category or "other", ticket_id=ticket_id,
                            agent_name=inbox.name or "Support")
        reply_item = detail.item.model_copy(update={"key": item.key})
        self.post_message(ReplyDrafted(reply_item, draft.model_copy(update={"to": list(choice.to)}), choice))

    def on_reply_drafted(self, message: ReplyDrafted) -> None:
        """Open the draft for editing."""
        self.push_screen(ReplyEditScreen(message.item, message.reply, message.choice))

    @work(thread=True, group="reply-approve", exclusive=True, exit_on_error=False)
    def approve_reply(self, item: QueueItem, reply: Reply, explicit: bool) -> None:
        """Approve exactly this reply: one outbox entry, bound to its content hash."""
        from triage_tui.outbound.approval import approve_reply

        try:
            entry = data.run(approve_reply, reply, actor=self.operator, config=self.config,
                             message_id=item.message_id, grant_id=item.grant_id, explicit_recipients=explicit)
        except ValueError as exc:
            self.post_message(ActionDone("", error=f"reply not approved: {exc}"))
            return
        paused = " (sends are paused: it waits for the stop switch)" if self.stop.on else ""
        self.post_message(ActionDone(f"Reply approved and queued for sending{paused}.", keys=[item.key],
                                     what="reply", ref=entry.command_result_id))

    def on_action_done(self, message: ActionDone) -> None:
        """Say what happened, and let every screen catch up."""
        if message.error:
            self.notify(message.error, severity="error", markup=False)
        else:
            self.notify(message.text, markup=False)
        if message.keys:
            for screen in reversed(list(self.screen_stack)):
                handler = getattr(screen, "decided", None)
                wanted = getattr(screen, "DECIDES", "decision")
                if handler is not None and wanted == message.what:
                    handler(message.keys)
        self.poll()


def make_app(config: Config, *, clock: Clock | None = None, worker: object | None = None,
             open_store: bool = True, poll_interval_s: float = 0.5, operator: str | None = None,
             theme_dirs: list[Path] | None = None, config_file: str = "",
             trackers: object | None = None) -> TriageApp:
    """The one way to build the console, for the CLI and the tests."""
    if open_store:
        from triage_tui.store.db import open_database

        open_database(config.database)
    return TriageApp(config, clock=clock, worker=worker, poll_interval_s=poll_interval_s,
                     operator=operator, theme_dirs=theme_dirs, config_file=config_file, trackers=trackers)

