"""The `worker`, `webhook` and `status` commands."""

from __future__ import annotations

import json
import logging
import os
import socket
import signal
import threading

import click

from triage_tui.cli import fail, load
from triage_tui.config import Config, webhook_secrets
from triage_tui.store.db import open_database


def _open(config: Config) -> None:
    open_database(config.database)  # a database that cannot be used is one line (cli.LazyGroup.invoke)


def log_to_stderr(name: str) -> None:
    """Long-running commands say on stderr when the database goes away and comes back."""
    logging.basicConfig(level=logging.WARNING, format=f"triage-tui {name}: %(message)s")


@click.command()
@click.option("--once", is_flag=True, help="Sync everything available (poll, webhook events, classify), then exit.")
@click.option("--role", type=click.Choice(["all", "ingest", "send"]), default="all", show_default=True,
              help="ingest: only poll, drain and classify; send: only send approved replies; all: both.")
@click.pass_context
def worker(ctx: click.Context, once: bool, role: str) -> None:
    """Headless ingest: poll every inbox, drain webhook events, classify; while running, send approved replies."""
    from triage_tui.ingest.runner import BackgroundWorker, SyncError, build_gateway, sync_once

    config = load(ctx)
    if not config.inboxes:
        fail("no [[inboxes]] configured: add one with its grant_id and email", code=2)
    _open(config)
    if once:
        try:
            report = sync_once(config)
        except SyncError as exc:
            fail(str(exc))
        click.echo(report.summary())
        return
    try:
        build_gateway(config)
    except SyncError as exc:
        fail(str(exc))
    from triage_tui.outbound.dispatcher import dispatch_task, make_gateway, run_dispatcher

    log_to_stderr("worker")
    owner = f"worker-{socket.gethostname()}-{os.getpid()}"
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if role == "send":
        click.echo("triage-tui worker: sending approved replies; Ctrl-C stops")
        try:
            run_dispatcher(config, make_gateway(config), owner=owner, stop=stop)
        except KeyboardInterrupt:
            pass
        return
    tasks = [] if role == "ingest" else [dispatch_task(config, owner=owner)]
    runner = BackgroundWorker(config, extra_tasks=tasks)
    runner.start()
    click.echo(f"triage-tui worker: polling {len(config.inboxes)} inbox(es) every "
               f"{config.worker.poll_interval_s:g}s; Ctrl-C stops")
    last = None
    try:
        while not stop.wait(2.0):
            progress = runner.progress()
            if progress.last_error and progress.last_error != last:
                click.echo(f"triage-tui worker: {progress.last_error}", err=True)
            last = progress.last_error
    except KeyboardInterrupt:
        pass
    runner.stop()


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: [webhook] host).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: [webhook] port).")
@click.pass_context
def webhook(ctx: click.Context, host: str | None, port: int | None) -> None:
    """The signed-webhook receiver at /webhooks/nylas (ASGI, under uvicorn)."""
    import uvicorn

    from triage_tui.ingest.receiver import PATH, build_app

    config = load(ctx)
    secrets = webhook_secrets()
    if not secrets:
        fail("NYLAS_WEBHOOK_SECRET is not set (comma-separate two secrets while rotating)", code=2)
    _open(config)
    log_to_stderr("webhook")
    host = host or config.webhook.host
    port = config.webhook.port if port is None else port
    click.echo(f"triage-tui webhook: listening on http://{host}:{port}{PATH}")
    try:
        uvicorn.run(build_app(config, secrets=secrets), host=host, port=port, log_level="warning",
                    access_log=False)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Counts: messages, threads, pending suggestions, tickets, quarantined, outbox, stop switch, last sync."""
    from triage_tui.outbound.status import outbound_status
    from triage_tui.store.status import store_status

    from triage_tui.store.transient import retrying

    config = load(ctx)
    _open(config)
    state = retrying(store_status)
    sending = retrying(outbound_status, config)
    if as_json:
        click.echo(json.dumps({**state.model_dump(mode="json"), **sending}, indent=2, sort_keys=True))
        return
    switch = state.stop_switch
    lines = [
        f"environment          {config.environment}",
        f"messages             {state.messages}",
        f"threads              {state.threads}",
        f"pending suggestions  {state.pending_suggestions}",
        f"tickets              {state.tickets}",
        f"quarantined          {state.quarantined}",
        "outbox               " + (", ".join(f"{k} {v}" for k, v in sorted(state.outbox_by_state.items())) or "empty"),
        "webhook events       " + (", ".join(f"{k} {v}" for k, v in sorted(state.webhook_events_by_status.items()))
                                   or "none"),
        "stop switch          " + (f"ON since {switch.since:%Y-%m-%d %H:%M} UTC by {switch.actor}: {switch.reason}"
                                   if switch.on else "off"),
    ]
    if sending["stop_switch_alert"]:
        lines.append(f"ALERT                {sending['stop_switch_alert']}")
    lines.append(f"sends waiting        {sending['outbox_waiting']}")
    for sync in state.last_sync:
        when = f"{sync.last_sync_at:%Y-%m-%d %H:%M:%S} UTC" if sync.last_sync_at else "never"
        error = f" (last error: {sync.last_error})" if sync.last_error else ""
        lines.append(f"last sync {sync.grant_id}: {when}{error}")
    if not state.last_sync:
        lines.append("last sync            never")
    click.echo("\n".join(lines))
