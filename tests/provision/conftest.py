"""A new user's machine: empty config and data dirs, NYLAS_API_KEY set, and the sandbox running."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.sandbox.helpers import Receiver
from triage_tui.cli import main


@dataclass
class Home:
    """Where the user's files land, and the sandbox they talk to."""

    config: Path
    sb: object

    @property
    def ruleset(self) -> Path:
        return self.config.parent / "guardrails.toml"

    def counts(self) -> dict:
        """How many of each application object the sandbox holds."""
        return {what: len(self.sb.admin("GET", f"/v3/{what}").json()["data"])
                for what in ("workspaces", "policies", "rules", "lists", "webhooks")} | {
            "grants": len(self.sb.admin("GET", "/v3/grants?limit=200").json()["data"])}


@pytest.fixture
def home(tmp_path, monkeypatch, make_sandbox) -> Home:
    sb = make_sandbox(messages=0)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("TRIAGE_TUI_CONFIG", raising=False)
    monkeypatch.delenv("NYLAS_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("NYLAS_API_KEY", sb.api_key)
    return Home(config=tmp_path / "config" / "triage-tui" / "config.toml", sb=sb)


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def cli(*args: str, input: str | None = None) -> Result:
    """Run `triage-tui ARGS` in this process, stdout and stderr kept apart."""
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def init(home: Home, *args: str, input: str | None = None) -> Result:
    """`triage-tui init --api-uri <sandbox> ARGS`."""
    return cli("init", "--api-uri", home.sb.api_uri, *args, input=input)


def lines(result: Result, word: str) -> list[str]:
    """The output lines whose first word (the action or status) is `word`."""
    return [line for line in result.stdout.splitlines() if line.split()[:1] == [word]]
