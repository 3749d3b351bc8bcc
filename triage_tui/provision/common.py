"""What the init, doctor and accounts commands share: the key, the gateway, the config path."""

from __future__ import annotations

from pathlib import Path

import click

from triage_tui.config import API_KEY_ENV, NylasConfig, api_key, config_path
from triage_tui.nylas.admin import AdminGateway

REGIONS = {"us": "https://api.us.nylas.com", "eu": "https://api.eu.nylas.com"}
# Commands a person waits on: a dead API is reported after a couple of tries, not a minute.
INTERACTIVE_RETRIES = 2


def config_file(ctx: click.Context) -> Path:
    """The config path this invocation reads and writes (--config, $TRIAGE_TUI_CONFIG, user dir)."""
    return config_path((ctx.find_root().obj or {}).get("config_file"))


def require_key() -> str:
    """NYLAS_API_KEY, or a one-line error and exit 2."""
    from triage_tui.cli import fail

    key = api_key()
    if not key:
        fail(f"{API_KEY_ENV} is not set: export {API_KEY_ENV}=<your key> (it stays in the environment, "
             "never in the config)", code=2)
    return key


def make_gateway(nylas: NylasConfig, key: str) -> AdminGateway:
    """The admin gateway with this config's timeouts and at most a couple of retries."""
    settings = nylas.model_copy(update={"max_retries": min(nylas.max_retries, INTERACTIVE_RETRIES)})
    return AdminGateway(settings, key)


def with_config_flag(command: str, path: Path, explicit: bool) -> str:
    """A command line to suggest, with --config when the path was given explicitly."""
    return f"triage-tui --config {path} {command}".rstrip() if explicit else f"triage-tui {command}".rstrip()
