"""Logs: one line per event, logfmt text or JSON, with the data contract's ids as fields.

Services (worker, webhook, every runbook command) log to stderr; the console logs to a file in
the user state dir, so nothing prints over its screen. Secrets are redacted from every line:
the values of the secret environment variables, URL passwords and bearer tokens. Message
content never reaches a log call: lines about a message carry its ids, never its text.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import platformdirs

from triage_tui.config import API_KEY_ENV, APP_NAME, LLM_API_KEY_ENV, WEBHOOK_SECRET_ENV

FORMATS = ("text", "json")
LEVELS = ("debug", "info", "warning", "error")
# the ids of the data contract, first on every line that has them, in this order
ID_FIELDS = ("grant_id", "message_id", "command_result_id", "thread_id", "event_id", "ticket_id", "decision_id")
# environment variables whose values never appear in a log line: ours, and the trackers' default
# token names (a token read under another name is registered when it is read)
SECRET_ENV = [API_KEY_ENV, WEBHOOK_SECRET_ENV, LLM_API_KEY_ENV, "PGPASSWORD", "GITHUB_TOKEN", "JIRA_API_TOKEN",
              "LINEAR_API_KEY", "ZENDESK_API_TOKEN", "TRIAGE_TUI_TRACKER_WEBHOOK_SECRET"]
MIN_SECRET_LEN = 6
QUIET_LIBRARIES = ("urllib3", "httpx", "httpcore", "asyncio", "peewee", "uvicorn")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName",
                                                                        "color_message"}
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@\s]*):[^@\s/]+@")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+")
_PASSWORD_KV = re.compile(r"(?i)\b(password\s*=\s*)[^\s\"',;]+")
_BARE = re.compile(r"[\w.:/@+\-,\[\]]+", re.ASCII)
_registered: set[str] = set()


def default_log_file() -> Path:
    """Where the console writes its log: the user log dir (on Linux ~/.local/state/triage-tui/log)."""
    return Path(platformdirs.user_log_dir(APP_NAME)) / "triage-tui.log"


def register_secret(value: str) -> None:
    """Redact `value` from every later line (for secrets that do not come from SECRET_ENV)."""
    if value and len(value) >= MIN_SECRET_LEN:
        _registered.add(value)


def _secrets() -> list[str]:
    found = set(_registered)
    for name in SECRET_ENV:
        for part in os.environ.get(name, "").split(","):
            if len(part.strip()) >= MIN_SECRET_LEN:
                found.add(part.strip())
    return sorted(found, key=len, reverse=True)


def redact(text: str) -> str:
    """`text` with every known secret, URL password and bearer token replaced by ***."""
    for secret in _secrets():
        text = text.replace(secret, "***")
    text = _URL_PASSWORD.sub(r"\1:***@", text)
    text = _BEARER.sub(r"\1***", text)
    return _PASSWORD_KV.sub(r"\1***", text)


class EventFormatter(logging.Formatter):
    """ts, level, logger, msg, then the ids, then any other `extra` fields: one line, logfmt or JSON."""

    def __init__(self, style: str = "text") -> None:
        super().__init__()
        if style not in FORMATS:
            raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
        self.style = style

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line."""
        stamp = datetime.fromtimestamp(record.created, tz=timezone.utc)
        event: dict[str, object] = {
            "ts": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage(),
        }
        extra = {k: v for k, v in vars(record).items()
                 if k not in _STANDARD and not k.startswith("_") and v not in (None, "")}
        event.update({k: extra.pop(k) for k in ID_FIELDS if k in extra})
        event.update(sorted(extra.items()))
        if record.exc_info:
            event["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            event["stack"] = self.formatStack(record.stack_info)
        event = {k: redact(v) if isinstance(v, str) else v for k, v in event.items()}
        if self.style == "json":
            return redact(json.dumps(event, default=str))
        return redact(" ".join(f"{k}={_logfmt(v)}" for k, v in event.items()))


def _logfmt(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if _BARE.fullmatch(text):
        return text
    return json.dumps(text)  # quoted; newlines and control characters escaped: still one line


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the moment of the write."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup_logging(style: str = "text", level: str = "info", *, to_file: bool = False,
                  file: str | os.PathLike[str] | None = None) -> logging.Handler:
    """Route every log record of this process: a file for the console (`to_file`), else stderr."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_triage_tui", False)]:
        root.removeHandler(old)
        old.close()
    handler: logging.Handler
    if to_file or file:
        path = Path(file) if file else default_log_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3,
                                                           encoding="utf-8")
        except OSError:
            handler = logging.NullHandler()  # the screen is no place for logs either
    else:
        handler = _Stderr()
    handler.setFormatter(EventFormatter(style))
    handler._triage_tui = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    numeric = getattr(logging, level.upper())
    root.setLevel(numeric)
    for name in QUIET_LIBRARIES:  # never below WARNING: peewee's debug lines carry SQL parameters (bodies)
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    logging.captureWarnings(True)  # warnings too become one formatted line, never raw stderr
    return handler


def ids(**values: object) -> dict:
    """`extra=` for a log call: only the ids that exist (empty values are left out)."""
    return {k: v for k, v in values.items() if v not in (None, "")}
