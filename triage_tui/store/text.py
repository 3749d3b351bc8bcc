"""Make text safe for both engines: PostgreSQL refuses NUL, neither stores lone surrogates."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def db_safe(value: str | None) -> str:
    """Remove NUL and replace lone surrogates, so SQLite and PostgreSQL store the same text."""
    if not value:
        return ""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = _SURROGATE.sub("\ufffd", value)
    return value


def dumps(value: Any) -> str:
    """JSON for a text column, with every string made db-safe."""
    return db_safe(json.dumps(value, ensure_ascii=False, default=str))


def loads(value: str | None, default: Any = None) -> Any:
    """Parse a JSON text column, tolerating an empty value."""
    if not value:
        return default
    return json.loads(value)


def to_epoch(moment: datetime | None) -> float | None:
    """An aware datetime as epoch seconds (naive is taken as UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def from_epoch(seconds: float | None) -> datetime | None:
    """Epoch seconds as an aware UTC datetime."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc)
