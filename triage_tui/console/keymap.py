"""Every console binding in one place, each with an id that `[keymap]` in the config can remap."""

from __future__ import annotations

from textual.binding import Binding

APP_BINDINGS = [
    Binding("f9", "stop_switch", "Stop switch", id="app.stop_switch", priority=True,
            tooltip="Pause every send (or lift the pause); works on every screen"),
    Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True, tooltip="Leave the console"),
    Binding("question_mark", "help", "Help", id="app.help", tooltip="Every binding and the query language"),
    Binding("ctrl+l", "audit", "Audit", id="app.audit", tooltip="The audit trail"),
    Binding("ctrl+r", "sync_now", "Sync", id="app.sync_now", show=False, tooltip="Poll the inbox now"),
]

DECISION_BINDINGS = [
    Binding("a", "approve", "Approve", id="ticket.approve", tooltip="Make a ticket as suggested"),
    Binding("c", "change", "Change", id="ticket.change", tooltip="Change category or urgency, then approve"),
    Binding("x", "reject", "Reject", id="ticket.reject", tooltip="Reject, with a reason"),
    Binding("s", "snooze", "Snooze", id="ticket.snooze", tooltip="Hide until later"),
    Binding("d", "dismiss_spam", "Spam", id="ticket.dismiss_spam", tooltip="Dismiss as spam"),
    Binding("r", "reply", "Reply", id="reply.draft", tooltip="Draft a reply from the category template"),
    Binding("S", "solve", "Solve", id="ticket.solve", tooltip="Solve the ticket (the customer writing reopens it)"),
    Binding("O", "reopen", "Reopen", id="ticket.reopen", show=False, tooltip="Reopen a pending or solved ticket"),
]

QUEUE_BINDINGS = [
    Binding("enter", "open", "Open", id="queue.open", tooltip="Read the thread"),
    Binding("space", "mark", "Mark", id="queue.mark", tooltip="Mark for a batch decision"),
    Binding("slash", "filter", "Filter", id="queue.filter", tooltip="Filter and search the queue"),
    Binding("v", "toggle_view", "Messages", id="queue.toggle_view", show=False,
            tooltip="Switch between conversations and single messages (view:messages)"),
    Binding("escape", "clear_marks", "Unmark", id="queue.clear_marks", show=False,
            tooltip="Clear every mark"),
]

THREAD_BINDINGS = [
    Binding("escape", "back", "Back", id="thread.back", tooltip="Back to the queue"),
    Binding("h", "toggle_headers", "Headers", id="thread.headers", tooltip="Show or hide raw headers"),
    Binding("z", "toggle_quotes", "Quotes", id="thread.quotes", tooltip="Unfold or fold quoted text"),
]

AUDIT_BINDINGS = [
    Binding("escape", "back", "Back", id="audit.back", tooltip="Back"),
    Binding("slash", "filter", "Filter", id="audit.filter", tooltip="Filter the audit trail"),
    Binding("m", "more", "Older", id="audit.more", tooltip="Load older rows"),
]

REPLY_BINDINGS = [
    Binding("ctrl+s", "review", "Review", id="reply.review", priority=True, tooltip="Review before sending"),
    Binding("ctrl+e", "editor", "$EDITOR", id="reply.editor", priority=True, tooltip="Edit the body in $EDITOR"),
    Binding("escape", "cancel", "Cancel", id="reply.cancel", tooltip="Drop the draft"),
]

MOVEMENT_BINDINGS = [
    Binding("up,k", "cursor_up", "Up", show=False, id="queue.cursor_up", tooltip="Previous message"),
    Binding("down,j", "cursor_down", "Down", show=False, id="queue.cursor_down", tooltip="Next message"),
    Binding("pageup", "page_up", "Page up", show=False, id="queue.page_up", tooltip="One screen up"),
    Binding("pagedown", "page_down", "Page down", show=False, id="queue.page_down", tooltip="One screen down"),
    Binding("home", "first", "First", show=False, id="queue.first", tooltip="Most urgent, oldest"),
    Binding("end", "last", "Last", show=False, id="queue.last", tooltip="End of the queue"),
]

REVIEW_BINDINGS = [
    Binding("ctrl+s", "answer('send')", "Approve and send", id="review.send", priority=True,
            tooltip="Approve exactly this reply"),
    Binding("e", "answer('edit')", "Edit", id="review.edit", tooltip="Back to the draft"),
    Binding("escape", "answer('cancel')", "Cancel", id="review.cancel", tooltip="Drop the reply"),
]

DIALOG_BINDINGS = [
    Binding("escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Close without doing anything"),
]
CONFIRM_BINDINGS = DIALOG_BINDINGS + [
    Binding("y", "confirm", "Yes", id="dialog.yes", tooltip="Answer yes to the question"),
]
HELP_BINDINGS = [Binding("escape", "back", "Back", id="help.back", tooltip="Back")]

ALL_BINDINGS: dict[str, list[Binding]] = {
    "Everywhere": APP_BINDINGS,
    "Queue": QUEUE_BINDINGS + DECISION_BINDINGS + MOVEMENT_BINDINGS,
    "Thread": THREAD_BINDINGS + DECISION_BINDINGS,
    "Reply": REPLY_BINDINGS,
    "Reply review": REVIEW_BINDINGS,
    "Dialogs": CONFIRM_BINDINGS,
    "Audit": AUDIT_BINDINGS,
    "Help": HELP_BINDINGS,
}


def binding_ids() -> set[str]:
    """Every id a `[keymap]` entry may name."""
    return {b.id for group in ALL_BINDINGS.values() for b in group if b.id}


def split_keymap(keymap: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The usable part of a configured keymap, and the ids it names that do not exist."""
    known = binding_ids()
    usable = {k: v for k, v in keymap.items() if k in known and v.strip()}
    unknown = sorted(k for k in keymap if k not in known or not keymap[k].strip())
    return usable, unknown


KEY_NAMES = {"question_mark": "?", "slash": "/", "space": "space", "enter": "enter", "escape": "esc"}


def effective_key(binding: Binding, keymap: dict[str, str]) -> str:
    """The key a binding answers to once the keymap is applied, as a person would write it."""
    keys = keymap.get(binding.id or "", binding.key)
    return ",".join(KEY_NAMES.get(key.strip(), key.strip()) for key in keys.split(","))
