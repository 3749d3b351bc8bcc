"""`triage-tui console` and `triage-tui demo`: the console with its worker, or with a live sandbox."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile

import click

from triage_tui.cli import fail, load
from triage_tui.config import API_KEY_ENV, Config, config_path, parse_config


def draw_on_the_terminal() -> None:
    """Textual draws on stderr; when only stderr is redirected (`2>log`), draw on stdout's terminal.

    Errors and tracebacks then still reach the redirect: Python's sys.stderr keeps the file.
    """
    if sys.__stderr__ is None or sys.__stdout__ is None:
        return
    if sys.__stderr__.isatty() or not sys.__stdout__.isatty():
        return
    log = os.fdopen(os.dup(2), "w", buffering=1)
    os.dup2(1, 2)
    sys.stderr = log


def run_console(config: Config, *, with_worker: bool = True, config_file: str = "") -> None:
    """Open the store, start the in-process worker, dispatcher and tracker writer, run the console, stop them."""
    from triage_tui.console.app import make_app
    from triage_tui.store.db import StoreError, open_database

    try:
        open_database(config.database)
    except StoreError as exc:
        fail(str(exc), code=2)
    worker = trackers = None
    if with_worker and config.inboxes:
        from triage_tui.ingest.runner import BackgroundWorker
        from triage_tui.outbound.dispatcher import dispatch_task
        from triage_tui.outbound.tracker_dispatch import TrackerDispatcher

        owner = f"console-{socket.gethostname()}-{os.getpid()}"
        worker = BackgroundWorker(config, extra_tasks=[dispatch_task(config, owner=owner)])
        worker.start()
        trackers = TrackerDispatcher(config, owner=owner)
        trackers.start()
    app = make_app(config, worker=worker, open_store=False, config_file=config_file, trackers=trackers)
    draw_on_the_terminal()
    try:
        app.run()
    finally:
        if trackers is not None:
            trackers.stop()
        if worker is not None:
            worker.stop()


@click.command()
@click.option("--no-worker", is_flag=True, help="Only the console: no ingest or sending from this process.")
@click.pass_context
def console(ctx: click.Context, no_worker: bool) -> None:
    """Open the triage console on the configured inbox, with the worker in-process."""
    config = load(ctx)
    path = config_path((ctx.find_root().obj or {}).get("config_file"))
    run_console(config, with_worker=not no_worker, config_file=str(path) if path.exists() else "")


DEMO_TRACKER = "sandbox-github"


def demo_config_text(sandbox, workdir: str, tracker=None) -> str:
    """The TOML config of a demo: the running sandbox, a database in `workdir`, the test environment,
    and (given a running fake tracker) tickets going to it."""
    from triage_tui.sandbox.trackers.runner import config_snippet

    def q(value: str) -> str:
        return json.dumps(value)  # a JSON string is a TOML basic string

    db_url = f"sqlite:///{os.path.join(workdir, 'triage.db')}"
    lines = ['tenant_id = "demo"', 'environment = "test"', "", "[nylas]", f"api_uri = {q(sandbox.api_uri)}", "",
             "[database]", f"url = {q(db_url)}", "", "[worker]", "poll_interval_s = 5.0", ""]
    if tracker is not None:
        toml, _env = config_snippet(tracker, DEMO_TRACKER)
        lines += ["[tracking]", f'default_tracker = "{DEMO_TRACKER}"', "", *toml, "min_interval_s = 0.0", ""]
    lines += ["[[inboxes]]", f"grant_id = {q(sandbox.grant_id)}", f"email = {q(sandbox.email)}",
              'name = "Demo support"', ""]
    return "\n".join(lines)


def demo_config(sandbox, workdir: str, tracker=None) -> Config:
    """The config of a demo (see `demo_config_text`)."""
    return parse_config(demo_config_text(sandbox, workdir, tracker), source="demo config")


@click.command()
@click.option("--messages", default=300, show_default=True, help="Seeded messages in the sandbox mailbox.")
@click.option("--drip-per-min", default=6.0, show_default=True, help="New mail arriving per minute.")
@click.option("--seed", default=7, show_default=True, help="Seed of the generated mailbox.")
@click.option("--keep", is_flag=True, help="Keep the temporary database and config and print where they are.")
def demo(messages: int, drip_per_min: float, seed: int, keep: bool) -> None:
    """The bundled sandbox with a live mailbox, a fake GitHub tracker, a temporary database and the console."""
    from triage_tui.sandbox.runner import SandboxStartError, start_sandbox
    from triage_tui.sandbox.state import SandboxOptions
    from triage_tui.sandbox.trackers.runner import start_tracker_fake

    if messages < 0 or drip_per_min < 0:
        fail("--messages and --drip-per-min must not be negative", code=2)
    workdir = tempfile.mkdtemp(prefix="triage-demo-")
    try:
        sandbox = start_sandbox(SandboxOptions(seed=seed, messages=messages), drip_per_min=drip_per_min)
    except SandboxStartError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        fail(str(exc))
    try:
        tracker = start_tracker_fake("github")
    except SandboxStartError as exc:
        sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        fail(str(exc))
    os.environ[API_KEY_ENV] = sandbox.api_key
    path = os.path.join(workdir, "triage-tui.toml")
    with open(path, "w", encoding="utf-8") as out:
        out.write(demo_config_text(sandbox, workdir, tracker))
    config = demo_config(sandbox, workdir, tracker)
    os.environ[config.tracker(DEMO_TRACKER).token_env] = tracker.token
    see = f"triage-tui --config {path} tickets list"
    click.echo(f"demo config at {path}; approved tickets go to a fake GitHub tracker at {tracker.url}\n"
               f"  see them with their keys and URLs from another terminal: {see}")
    try:
        run_console(config, config_file=path)
    finally:
        tracker.stop()
        sandbox.stop()
        if keep:
            click.echo(f"demo database and config kept in {workdir}: {see}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
