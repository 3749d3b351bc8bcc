"""`triage-tui console` and `triage-tui demo`: the console with its worker, or with a live sandbox."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile

import click

from triage_tui.cli import fail, load
from triage_tui.config import API_KEY_ENV, Config, DatabaseConfig, InboxConfig, NylasConfig, WorkerConfig, config_path


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
    """Open the store, start the in-process worker (and dispatcher), run the console, stop them."""
    from triage_tui.console.app import make_app
    from triage_tui.store.db import StoreError, open_database

    try:
        open_database(config.database)
    except StoreError as exc:
        fail(str(exc), code=2)
    worker = None
    if with_worker and config.inboxes:
        from triage_tui.ingest.runner import BackgroundWorker
        from triage_tui.outbound.dispatcher import dispatch_task

        owner = f"console-{socket.gethostname()}-{os.getpid()}"
        worker = BackgroundWorker(config, extra_tasks=[dispatch_task(config, owner=owner)])
        worker.start()
    app = make_app(config, worker=worker, open_store=False, config_file=config_file)
    draw_on_the_terminal()
    try:
        app.run()
    finally:
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


def demo_config(sandbox, workdir: str) -> Config:
    """The config of a demo: the running sandbox, a database in `workdir`, the test environment."""
    return Config(
        tenant_id="demo",
        environment="test",
        nylas=NylasConfig(api_uri=sandbox.api_uri),
        inboxes=[InboxConfig(grant_id=sandbox.grant_id, email=sandbox.email, name="Demo support")],
        database=DatabaseConfig(url=f"sqlite:///{os.path.join(workdir, 'triage.db')}"),
        worker=WorkerConfig(poll_interval_s=5.0),
    )


@click.command()
@click.option("--messages", default=300, show_default=True, help="Seeded messages in the sandbox mailbox.")
@click.option("--drip-per-min", default=6.0, show_default=True, help="New mail arriving per minute.")
@click.option("--seed", default=7, show_default=True, help="Seed of the generated mailbox.")
@click.option("--keep", is_flag=True, help="Keep the temporary database and print where it is.")
def demo(messages: int, drip_per_min: float, seed: int, keep: bool) -> None:
    """The bundled sandbox with a live mailbox, a temporary database and the console: no setup."""
    from triage_tui.sandbox.runner import SandboxStartError, start_sandbox
    from triage_tui.sandbox.state import SandboxOptions

    if messages < 0 or drip_per_min < 0:
        fail("--messages and --drip-per-min must not be negative", code=2)
    workdir = tempfile.mkdtemp(prefix="triage-demo-")
    try:
        sandbox = start_sandbox(SandboxOptions(seed=seed, messages=messages), drip_per_min=drip_per_min)
    except SandboxStartError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        fail(str(exc))
    os.environ[API_KEY_ENV] = sandbox.api_key
    config = demo_config(sandbox, workdir)
    try:
        run_console(config)
    finally:
        sandbox.stop()
        if keep:
            click.echo(f"demo database kept at {workdir}/triage.db")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
