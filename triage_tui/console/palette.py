"""Command palette entries for every console action, namespaced ("ticket: approve")."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, action on the screen or "app.*", help)
COMMANDS: list[tuple[str, str, str]] = [
    ("ticket: approve", "approve", "Make a ticket as suggested (marked conversations, or the highlighted one)"),
    ("ticket: change category or urgency", "change", "Pick another category or urgency, then approve"),
    ("ticket: reject", "reject", "Reject with a reason"),
    ("ticket: snooze", "snooze", "Hide until later"),
    ("ticket: dismiss as spam", "dismiss_spam", "Dismiss as spam"),
    ("ticket: solve", "solve", "Solve the ticket; the customer writing again reopens it"),
    ("ticket: reopen", "reopen", "Reopen a pending or solved ticket"),
    ("reply: draft", "reply", "Draft a reply from the category template"),
    ("queue: open thread", "open", "Read the highlighted thread"),
    ("queue: mark", "mark", "Mark the highlighted conversation for a batch decision"),
    ("queue: clear marks", "clear_marks", "Unmark every row"),
    ("queue: filter", "filter", "Filter and search the queue"),
    ("queue: conversations or single messages", "toggle_view", "Switch the queue's rows (view:messages)"),
    ("thread: toggle headers", "toggle_headers", "Show or hide raw headers"),
    ("thread: fold or unfold quotes", "toggle_quotes", "Show or hide quoted text"),
    ("stop switch: pause or resume sends", "app.stop_switch", "Pause every send, or lift the pause"),
    ("view: audit trail", "app.audit", "Who did what, when"),
    ("view: help", "app.help", "Every binding and the query language"),
    ("sync: poll the inbox now", "app.sync_now", "Ask the worker to sync now"),
]


class TriageCommands(Provider):
    """The console's actions that make sense on the current screen."""

    def _available(self) -> list[tuple[str, str, str]]:
        screen = self.screen
        out = []
        for title, action, help_text in COMMANDS:
            if action.startswith("app.") or hasattr(screen, f"action_{action}"):
                out.append((title, action, help_text))
        return out

    def _runner(self, action: str):
        target = self.app if action.startswith("app.") else self.screen
        return partial(target.run_action, action.removeprefix("app."))

    async def discover(self) -> Hits:
        """Every available action, for the empty palette."""
        for title, action, help_text in self._available():
            yield DiscoveryHit(title, self._runner(action), help=help_text)

    async def search(self, query: str) -> Hits:
        """Actions whose title matches what was typed."""
        matcher = self.matcher(query)
        for title, action, help_text in self._available():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), self._runner(action), text=title, help=help_text)
