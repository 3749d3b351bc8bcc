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
from triage_tui.store.db import StoreError, open_database
from triage_tui.store.transient import describe, is_database_error

log = logging.getLogger("triage_tui.worker")

def _open(config: Config, *, code: int = 1, as_json: bool = False) -> None:
    """Open (and if behind, migrate) the store, or one line naming the database and exit `code`."""
    try:
        open_database(config.database)
    except StoreError as exc:
        _down(str(exc), code, as_json)
    except Exception as exc:  # noqa: BLE001 - only database errors become the line
        if not is_database_error(exc):
            raise
        _down(describe(exc), code, as_json)


def _down(message: str, code: int, as_json: bool) -> None:
    """One line on stderr (and, for scripts, the health as JSON on stdout), then exit `code`."""
    if as_json:
        from triage_tui.ops.health import down

        click.echo(json.dumps({"health": down(message).as_dict()}, indent=2))
    fail(message, code=code)


def _serve_metrics(config: Config, host: str, port: int | None):
    """The worker's /metrics, /healthz and /readyz on host:port (None: not served)."""
    if port is None:
        return None
    from triage_tui.ops.http import OpsServer

    try:
        server = OpsServer(config, host, port).start()
    except OSError as exc:
        fail(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc} (give each worker its own port)")
    log.info("metrics served", extra={"url": f"http://{host}:{server.port}/metrics"})
    return server


@click.command()
@click.option("--once", is_flag=True, help="Sync everything available (poll, webhook events, classify), then exit.")
@click.option("--role", type=click.Choice(["all", "ingest", "send"]), default="all", show_default=True,
              help="ingest: only poll, drain and classify; send: only send approved replies; all: both.")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve /metrics, /healthz and /readyz on this port (one port per worker process).")
@click.option("--metrics-host", default="127.0.0.1", show_default=True, help="Address for --metrics-port.")
@click.pass_context
def worker(ctx: click.Context, once: bool, role: str, metrics_port: int | None, metrics_host: str) -> None:
    """Headless ingest: poll every inbox, drain webhook events, classify; while running, send approved replies."""
    from triage_tui.ingest.runner import BackgroundWorker, SyncError, build_gateway, sync_once

    config = load(ctx)
    if not config.inboxes:
        fail("no [[inboxes]] configured: add one with its grant_id and email", code=2)
    _open(config)
    if once:
        server = _serve_metrics(config, metrics_host, metrics_port)
        try:
            report = sync_once(config)
        except SyncError as exc:
            fail(str(exc))
        finally:
            if server is not None:
                server.stop()
        click.echo(report.summary())
        return
    try:
        build_gateway(config)
    except SyncError as exc:
        fail(str(exc))
    server = _serve_metrics(config, metrics_host, metrics_port)
    from triage_tui.outbound.dispatcher import dispatch_task, make_gateway, run_dispatcher

    owner = f"worker-{socket.gethostname()}-{os.getpid()}"
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if role == "send":
        click.echo("triage-tui worker: sending approved replies; Ctrl-C stops")
        try:
            run_dispatcher(config, make_gateway(config), owner=owner, stop=stop)
        except KeyboardInterrupt:
            pass
        if server is not None:
            server.stop()
        return
    tasks = [] if role == "ingest" else [dispatch_task(config, owner=owner)]
    runner = BackgroundWorker(config, extra_tasks=tasks)
    runner.start()
    log.info("worker started", extra={"inboxes": len(config.inboxes), "poll_interval_s": config.worker.poll_interval_s,
                                      "owner": owner})
    try:
        stop.wait()  # the runner logs every failed cycle itself
    except KeyboardInterrupt:
        pass
    runner.stop()
    if server is not None:
        server.stop()
    log.info("worker stopped", extra={"owner": owner})


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: [webhook] host).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: [webhook] port).")
@click.option("--challenge-only", is_flag=True,
              help="Before `triage-tui init` registers the webhook: answer Nylas's challenge, refuse every "
                   "notification; restart with NYLAS_WEBHOOK_SECRET once init printed it.")
@click.pass_context
def webhook(ctx: click.Context, host: str | None, port: int | None, challenge_only: bool) -> None:
    """The signed-webhook receiver at /webhooks/nylas (ASGI, under uvicorn)."""
    import uvicorn

    from triage_tui.ingest.receiver import PATH, build_app

    config = load(ctx)
    secrets = [] if challenge_only else webhook_secrets()
    if not secrets and not challenge_only:
        fail("NYLAS_WEBHOOK_SECRET is not set (comma-separate two secrets while rotating; "
             "--challenge-only before init)", code=2)
    _open(config)
    host = host or config.webhook.host
    port = config.webhook.port if port is None else port
    log.info("webhook receiver listening", extra={"url": f"http://{host}:{port}{PATH}", "metrics": "/metrics"})
    if challenge_only:
        click.echo("triage-tui webhook: answering challenges only; every notification is refused (401, Nylas "
                   "retries it) until you restart with NYLAS_WEBHOOK_SECRET set")
    try:
        uvicorn.run(build_app(config, secrets=secrets), host=host, port=port, log_level="warning",
                    access_log=False, log_config=None)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Counts, stop switch, last sync and health; exits 0 healthy, 1 degraded, 2 down (see the README)."""
    from triage_tui.ops.health import DOWN, store_health
    from triage_tui.classify.chain import classifier_status
    from triage_tui.classify.labels import ClassifierSetupError
    from triage_tui.outbound.status import outbound_status
    from triage_tui.store.status import store_status
    from triage_tui.store.tracker_queries import tracker_status

    from triage_tui.store.transient import retrying

    config = load(ctx)
    try:
        classifier = classifier_status(config.classifier)
    except ClassifierSetupError as exc:
        _down(f"classifier: {exc}", DOWN, as_json)
    _open(config, code=DOWN, as_json=as_json)
    try:
        state = retrying(store_status)
        sending = retrying(outbound_status, config)
        trackers = retrying(tracker_status, config)
    except Exception as exc:  # noqa: BLE001 - a dead database is one line, not a traceback
        _down(f"cannot read the database: {exc}", DOWN, as_json)
    health = store_health(config, state, sending)
    if as_json:
        click.echo(json.dumps({**state.model_dump(mode="json"), **sending, **trackers, "classifier": classifier,
                               "health": health.as_dict()}, indent=2, sort_keys=True))
        ctx.exit(health.exit_code)
    switch = state.stop_switch
    lines = [
        f"environment          {config.environment}",
        f"messages             {state.messages}",
        f"threads              {state.threads}",
        f"pending suggestions  {state.pending_suggestions}",
        f"conversations        {sum(state.conversations_by_state.values())}"
        + "".join(f", {k} {v}" for k, v in sorted(state.conversations_by_state.items())),
        f"tickets              {state.tickets}" + "".join(f", {k} {v}" for k, v in sorted(state.tickets_by_status.items())),
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
    lines.append(f"tracker writes       {trackers['tracker_writes_pending']} pending, "
                 f"{trackers['tracker_writes_failed']} failed or needing a human")
    lines += [f"TRACKER              {line}" for line in trackers["tracker_problems"]]
    lines.append(f"classifier           {classifier['line']}")
    if classifier["embed"]:
        lines.append(f"embed weights        {classifier['embed']}")
    for sync in state.last_sync:
        when = f"{sync.last_sync_at:%Y-%m-%d %H:%M:%S} UTC" if sync.last_sync_at else "never"
        error = f" (last error: {sync.last_error})" if sync.last_error else ""
        lines.append(f"last sync {sync.grant_id}: {when}{error}")
    if not state.last_sync:
        lines.append("last sync            never")
    lines.append(f"health               {health.status}" + "".join(f"\n  - {p}" for p in health.problems))
    click.echo("\n".join(lines))
    ctx.exit(health.exit_code)
