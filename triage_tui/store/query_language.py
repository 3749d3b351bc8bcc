"""The queue's small query language: `cat:billing urg:high from:acme.com status:pending words`."""

from __future__ import annotations

import re

from triage_tui.domain import ConversationState, MessageState, QueueFilter, TicketStatus

QUERY_HELP = """\
Type words to search subject and sender; narrow with keys (repeat a key or use commas):
  cat:billing,bug      category          urg:high,critical   urgency
  from:acme.com        sender contains   is:dismissed        state
  status:open,pending  ticket status     view:messages       one row per message (v toggles)
The queue lists conversations, one row per thread. Without is: or status: it shows what waits on
us: new, needs_human, open tickets and snoozes whose time has come.
Conversation states: new, needs_human, open, pending, solved, dismissed, snoozed, quarantined,
automated (only automated mail), all. is:ticket (or status:all) lists every ticket.
Ticket status: open (waiting on us), pending (we replied), solved; a customer writing reopens it.
Message view states: new, needs_human, ticket, replied, dismissed, snoozed, quarantined, all.
Put text in "double quotes" to search for it literally, e.g. "re: invoice"."""

_KEYS = {
    "cat": "categories",
    "category": "categories",
    "urg": "urgencies",
    "urgency": "urgencies",
    "from": "senders",
    "is": "states",
    "state": "states",
    "status": "statuses",
    "view": "view",
}
_STATE_ALIASES = {"needs-human": "needs_human", "human": "needs_human", "tickets": "ticket"}
_VIEWS = {"messages": True, "message": True, "m": True, "conversations": False, "conversation": False,
          "threads": False, "c": False}
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_KEY_VALUE = re.compile(r"^([A-Za-z]+):(.*)$")


class QueryError(ValueError):
    """A query the console cannot understand; the message says what to type instead."""


def parse_query(text: str, *, categories: list[str], urgencies: list[str]) -> QueueFilter:
    """Parse `cat:billing urg:high from:acme.com status:open view:messages words` into a filter."""
    if text.count('"') % 2:
        raise QueryError('unclosed quote: close the " or remove it')
    found: dict[str, list[str]] = {"categories": [], "urgencies": [], "senders": [], "words": [],
                                   "states": [], "statuses": []}
    messages = False
    for match in _TOKEN.finditer(text):
        quoted, bare = match.group(1), match.group(2)
        if quoted is not None:
            if quoted.strip():
                found["words"].append(quoted.strip())
            continue
        key_value = _KEY_VALUE.match(bare)
        if not key_value:
            found["words"].append(bare)
            continue
        key, raw = key_value.group(1).lower(), key_value.group(2)
        if key not in _KEYS:
            raise QueryError(
                f"unknown key '{key}:' (use cat:, urg:, from:, is:, status:, view:); "
                f'put "{bare}" in double quotes to search for the text'
            )
        values = [v.strip() for v in raw.split(",") if v.strip()]
        if not values:
            raise QueryError(f"'{key}:' needs a value, e.g. {_example(key)}")
        field = _KEYS[key]
        for value in values:
            if field == "categories":
                found[field].append(_choose(value, categories, "category"))
            elif field == "urgencies":
                found[field].append(_choose(value, urgencies, "urgency"))
            elif field == "states":
                found[field].append(_STATE_ALIASES.get(value.lower(), value.lower()))
            elif field == "statuses":
                found[field].extend(_parse_status(value))
            elif field == "view":
                if value.lower() not in _VIEWS:
                    raise QueryError(f"unknown view '{value}'; use view:messages or view:conversations")
                messages = _VIEWS[value.lower()]
            else:
                found[field].append(value.lower())
    states, statuses = _states_for_view(found["states"], found["statuses"], messages)
    return QueueFilter(
        categories=_unique(found["categories"]),
        urgencies=_unique(found["urgencies"]),
        states=_unique(states),
        statuses=_unique(statuses),
        senders=_unique(found["senders"]),
        words=_unique(found["words"]),
        messages=messages,
    )


def _states_for_view(states: list[str], statuses: list[str], messages: bool) -> tuple[list[str], list[str]]:
    """Check the states against the view; `is:ticket` in the conversation view lists every ticket."""
    if messages:
        if statuses:
            raise QueryError("status: works on conversations; remove view:messages to use it")
        allowed = [s.value for s in MessageState]
    else:
        allowed = [s.value for s in ConversationState]
        if "ticket" in states:
            states = [s for s in states if s != "ticket"]
            statuses = statuses + [s.value for s in TicketStatus]
    out: list[str] = []
    for state in states:
        if state == "all":
            out.extend(allowed)
        elif state in allowed:
            out.append(state)
        else:
            names = ", ".join(allowed + ["all"] + ([] if messages else ["ticket"]))
            hint = "" if messages else " (message states need view:messages)"
            raise QueryError(f"unknown state '{state}'; use one of: {names}{hint}")
    return out, statuses


def _parse_status(value: str) -> list[str]:
    lowered = value.lower()
    if lowered == "all":
        return [s.value for s in TicketStatus]
    if lowered in {s.value for s in TicketStatus}:
        return [lowered]
    raise QueryError(f"unknown ticket status '{value}'; use one of: open, pending, solved, all")


def _choose(value: str, allowed: list[str], what: str) -> str:
    lowered = {a.lower(): a for a in allowed}
    if value.lower() in lowered:
        return lowered[value.lower()]
    raise QueryError(f"unknown {what} '{value}'; use one of: {', '.join(allowed)}")


def _unique(values: list) -> list:
    return list(dict.fromkeys(values))


def _example(key: str) -> str:
    return {"cat": "cat:billing", "category": "category:billing", "urg": "urg:high",
            "urgency": "urgency:high", "from": "from:acme.com", "is": "is:new",
            "state": "state:new", "status": "status:open", "view": "view:messages"}[key]


def toggle_view(text: str) -> str:
    """The same query in the other view: add or remove `view:messages`."""
    kept = [t for t in text.split() if not t.lower().startswith("view:")]
    if any(t.lower().startswith("view:") and _VIEWS.get(t.split(":", 1)[1].lower()) for t in text.split()):
        return " ".join(kept)
    return " ".join(kept + ["view:messages"])
