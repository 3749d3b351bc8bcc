"""Logs: one line per event in a stable format, ids first, secrets redacted, the console to a file."""

from __future__ import annotations

import json
import logging
import logging.handlers

import pytest
from click.testing import CliRunner

from triage_tui.cli import main
from triage_tui.ops.logs import EventFormatter, default_log_file, ids, redact, register_secret, setup_logging


@pytest.fixture
def restore_logging():
    """Put the root logger back as the test found it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    logging.captureWarnings(False)


def record(msg: str, *args, exc_info=None, **extra) -> logging.LogRecord:
    made = logging.LogRecord("triage_tui.ingest", logging.WARNING, __file__, 1, msg, args, exc_info)
    made.__dict__.update(extra)
    return made


def test_text_lines_are_logfmt_with_the_ids_first_and_one_line_whatever_the_content():
    hostile = "subject\nwith a newline, \x1b[31mANSI\x1b[0m and \"quotes\""
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        import sys

        line = EventFormatter("text").format(record("ingest failed: %s", hostile, exc_info=sys.exc_info(),
                                                    reason="x", command_result_id="cr-1", message_id="m-1",
                                                    grant_id="g-1", empty=""))
    assert "\n" not in line and "\x1b" not in line
    keys = [part.split("=", 1)[0] for part in line.split(" ") if "=" in part and not part.startswith(" ")]
    assert keys[:4] == ["ts", "level", "logger", "msg"]
    assert line.index("grant_id=g-1") < line.index("message_id=m-1") < line.index("command_result_id=cr-1")
    assert line.index("command_result_id=cr-1") < line.index("reason=x") < line.index("exc=")
    assert "empty=" not in line and "level=warning" in line and "ValueError: boom" in line


def test_json_lines_parse_and_keep_every_field():
    line = EventFormatter("json").format(record("sent", grant_id="g-1", message_id="m-1", command_result_id="cr-1",
                                                count=3))
    event = json.loads(line)
    assert "\n" not in line
    assert list(event)[:7] == ["ts", "level", "logger", "msg", "grant_id", "message_id", "command_result_id"]
    assert (event["msg"], event["count"], event["ts"][-1]) == ("sent", 3, "Z")
    with pytest.raises(ValueError):
        EventFormatter("yaml")


def test_secrets_are_redacted_from_every_line(monkeypatch):
    monkeypatch.setenv("NYLAS_API_KEY", "nyk-abcdef123456")
    monkeypatch.setenv("NYLAS_WEBHOOK_SECRET", "old-secret-1,new-secret-2")
    register_secret("tracker-token-xyz")
    text = ("key nyk-abcdef123456 old-secret-1 new-secret-2 postgresql://triage:hunter22@db/x "
            "Authorization: Bearer abc.def.ghi dsn password=letmein tracker-token-xyz")
    cleaned = redact(text)
    for secret in ("nyk-abcdef123456", "old-secret-1", "new-secret-2", "hunter22", "abc.def.ghi", "letmein",
                   "tracker-token-xyz"):
        assert secret not in cleaned
    assert "postgresql://triage:***@db/x" in cleaned
    for style in ("text", "json"):
        line = EventFormatter(style).format(record("failed with %s", text, error="nyk-abcdef123456"))
        assert "nyk-abcdef123456" not in line and "hunter22" not in line and "***" in line


def test_tracker_tokens_are_redacted_under_default_and_configured_names(monkeypatch):
    from triage_tui.trackers.http import secret_from_env

    monkeypatch.setenv("GITHUB_TOKEN", "ghp_default0123456789")
    monkeypatch.setenv("ACME_JIRA_TOKEN", "jira-custom-0123456789")
    assert secret_from_env("ACME_JIRA_TOKEN", "tracker acme") == "jira-custom-0123456789"  # read as a tracker does
    line = EventFormatter("json").format(record("401 with ghp_default0123456789 and jira-custom-0123456789"))
    assert "ghp_default0123456789" not in line and "jira-custom-0123456789" not in line and "***" in line


def test_ids_leave_out_what_does_not_exist():
    assert ids(grant_id="g", message_id="", command_result_id=None) == {"grant_id": "g"}


def test_services_log_to_stderr_and_the_console_to_a_file_in_the_state_dir(tmp_path, monkeypatch, capsys,
                                                                            restore_logging):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    setup_logging("json", "info")
    logging.getLogger("triage_tui.worker").info("worker started", extra={"owner": "w1"})
    assert json.loads(capsys.readouterr().err)["owner"] == "w1"
    logging.captureWarnings(False)  # earlier tests' CLI runs left it on, with pytest's hook since restored
    assert CliRunner().invoke(main, ["--log-format", "json", "console", "--help"]).exit_code == 0
    path = default_log_file()
    assert path.is_relative_to(tmp_path / "state")
    logging.getLogger("triage_tui.console").warning("drawn over the screen?", extra=ids(grant_id="g-1"))
    import warnings

    warnings.showwarning("a library complains", UserWarning, __file__, 1)  # where warnings.warn ends
    assert capsys.readouterr().err == ""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["msg"] for line in lines][0] == "drawn over the screen?"
    assert "a library complains" in lines[1]["msg"] and lines[0]["grant_id"] == "g-1"
    roots = [h for h in logging.getLogger().handlers if getattr(h, "_triage_tui", False)]
    assert len(roots) == 1 and isinstance(roots[0], logging.handlers.RotatingFileHandler)


def test_debug_never_lets_library_sql_into_the_log(capsys, restore_logging):
    setup_logging("text", "debug")
    logging.getLogger("peewee").debug("('INSERT INTO message_bodies ...', ['the whole body'])")
    logging.getLogger("triage_tui.ingest").debug("our own debug line")
    err = capsys.readouterr().err
    assert "the whole body" not in err and "our own debug line" in err
