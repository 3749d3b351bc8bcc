"""The `triage-tui` command line: one lazy group, each command owned by its package."""

from __future__ import annotations

import importlib
import sys
from typing import NoReturn

import click

from triage_tui import __version__
from triage_tui.config import Config, ConfigError, load_config

# name -> "module:attribute"; each command lives beside the code it drives.
COMMANDS: dict[str, str] = {
    "sandbox": "triage_tui.sandbox.commands:sandbox",
    "classify": "triage_tui.classify.commands:classify",
    "console": "triage_tui.console.commands:console",
    "demo": "triage_tui.console.commands:demo",
    "pause": "triage_tui.outbound.commands:pause",
    "resume": "triage_tui.outbound.commands:resume",
    "audit": "triage_tui.outbound.commands:audit",
    "worker": "triage_tui.ingest.commands:worker",
    "webhook": "triage_tui.ingest.commands:webhook",
    "status": "triage_tui.ingest.commands:status",
    "init": "triage_tui.provision.init_command:init",
    "doctor": "triage_tui.provision.doctor_command:doctor",
    "accounts": "triage_tui.provision.accounts_command:accounts",
    "tickets": "triage_tui.outbound.tracker_commands:tickets",
    "migrate": "triage_tui.store.commands:migrate",
}
# Long-running services log to stderr; every other command logs to the file in the user state dir:
# a screen must not be drawn over, and a runbook command's failure is one line, not its retries.
STDERR_LOG_COMMANDS = {"worker", "webhook", "sandbox"}


class LazyGroup(click.Group):
    """A click group that imports a command only when it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def invoke(self, ctx: click.Context):
        """Run the command; a database that fails past its retries is one line and exit 1, every time."""
        try:
            return super().invoke(ctx)
        except click.exceptions.ClickException:
            raise
        except Exception as exc:  # noqa: BLE001 - only database errors are turned into the line
            from triage_tui.store.db import StoreError
            from triage_tui.store.transient import describe, is_database_error

            if isinstance(exc, StoreError):
                fail(str(exc))
            if is_database_error(exc):
                fail(describe(exc))
            raise


@click.group(cls=LazyGroup, invoke_without_command=True)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: $TRIAGE_TUI_CONFIG, then the user config dir).",
)
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              envvar="TRIAGE_TUI_LOG_FORMAT", help="One line per event: logfmt text, or JSON for log shippers.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True, envvar="TRIAGE_TUI_LOG_LEVEL", help="The least severe level logged.")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None, envvar="TRIAGE_TUI_LOG_FILE",
              help="Log to this file (default: stderr for worker, webhook and sandbox; the user state dir otherwise).")
@click.version_option(__version__, prog_name="triage-tui")
@click.pass_context
def main(ctx: click.Context, config_file: str | None, log_format: str, log_level: str, log_file: str | None) -> None:
    """Triage the mail that reaches a Nylas Agent Account, from the terminal."""
    from triage_tui.ops.logs import setup_logging

    ctx.ensure_object(dict)
    ctx.obj["config_file"] = config_file
    setup_logging(log_format, log_level, to_file=ctx.invoked_subcommand not in STDERR_LOG_COMMANDS,
                  file=log_file)
    if ctx.invoked_subcommand is None:
        if "console" in COMMANDS:
            ctx.invoke(main.get_command(ctx, "console"))
        else:
            click.echo(ctx.get_help())


def load(ctx: click.Context) -> Config:
    """The config for this invocation, or a one-line error and exit code 2."""
    root = ctx.find_root()
    try:
        return load_config((root.obj or {}).get("config_file"))
    except ConfigError as exc:
        fail(str(exc), code=2)


def fail(message: str, *, code: int = 1) -> NoReturn:
    """Print one clear line to stderr and exit non-zero."""
    click.echo("triage-tui: " + " ".join(str(message).split()), err=True)  # driver errors span lines
    sys.exit(code)


if __name__ == "__main__":
    main()
