"""The queue's small query language: `cat:billing urg:high from:acme.com is:quarantined words`."""

from __future__ import annotations

import re

from triage_tui.domain import MessageState, QueueFilter

QUERY_HELP = """\
Type words to search subject and sender; narrow with keys (repeat a key or use commas):
  cat:billing,bug      category          urg:high,critical   urgency
  from:acme.com        sender contains   is:quarantined      state
States: new, needs_human, ticket, replied, dismissed, snoozed, quarantined, all.
Without is: the queue shows what still needs a person (new, needs_human, woken snoozes).
Put text in "double quotes" to search for it literally, e.g. "re: invoice"."""

_KEYS = {
    "cat": "categories",
    "category": "categories",
    "urg": "urgencies",
    "urgency": "urgencies",
    "from": "senders",
    "is": "states",
    "state": "states",
}
_STATE_ALIASES = {
    "needs-human": MessageState.NEEDS_HUMAN,
    "human": MessageState.NEEDS_HUMAN,
    "tickets": MessageState.TICKET,
}
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_KEY_VALUE = re.compile(r"^([A-Za-z]+):(.*)$")

class QueryError(ValueError):
    """A query the console cannot understand; the message says what to type instead."""


def parse_query(text: str, *, categories: list[str], urgencies: list[str]) -> QueueFilter:
    """Parse `cat:billing urg:high from:acme.com is:quarantined words` into a filter."""
    if text.count('"') % 2:
        raise QueryError('unclosed quote: close the " or remove it')
    found: dict[str, list[str]] = {"categories": [], "urgencies": [], "senders": [], "words": []}
    states: list[MessageState] = []
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
                f"unknown key '{key}:' (use cat:, urg:, from:, is:); "
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
                states.extend(_parse_state(value))
            else:
                found[field].append(value.lower())
    return QueueFilter(
        categories=_unique(found["categories"]),
        urgencies=_unique(found["urgencies"]),
        states=_unique(states),
        senders=_unique(found["senders"]),
        words=_unique(found["words"]),
    )


def _choose(value: str, allowed: list[str], what: str) -> str:
    lowered = {a.lower(): a for a in allowed}
    if value.lower() in lowered:
        return lowered[value.lower()]
    raise QueryError(f"unknown {what} '{value}'; use one of: {', '.join(allowed)}")


def _parse_state(value: str) -> list[MessageState]:
    lowered = value.lower()
    if lowered == "all":
        return list(MessageState)
    if lowered in _STATE_ALIASES:
        return [_STATE_ALIASES[lowered]]
    try:
        return [MessageState(lowered)]
    except ValueError:
        names = ", ".join([s.value for s in MessageState] + ["all"])
        raise QueryError(f"unknown state '{value}'; use one of: {names}") from None


def _unique(values: list) -> list:
    return list(dict.fromkeys(values))


def _example(key: str) -> str:
    return {"cat": "cat:billing", "category": "category:billing", "urg": "urg:high",
            "urgency": "urgency:high", "from": "from:acme.com", "is": "is:new",
            "state": "state:new"}[key]
