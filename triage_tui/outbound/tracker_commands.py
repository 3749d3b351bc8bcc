"""`triage-tui tickets list|retry|sync`: tickets with their tracker keys, and the tracker writes still to land."""

from __future__ import annotations

import json
import os
import socket

import click

from triage_tui.cli import fail, load
from triage_tui.outbound.commands import _actor, _open


@click.group()
def tickets() -> None:
    """Tickets with their external keys and URLs, and tracker writes (pending, failed)."""


def _write_line(write) -> str:
    state = write.state.value + (" (waiting for the create)" if write.waiting_for_create else "")
    error = f": {write.last_error[:150]}" if write.last_error else ""
    return f"    {write.op.value:<7} {write.tracker:<12} {state}, {write.attempts} attempt(s) [{write.command_result_id}]{error}"


@tickets.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per ticket, with links and open writes.")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100_000), help="Newest tickets shown.")
@click.option("--ticket", "ticket_id", default=None, help="Only this ticket id.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool, limit: int, ticket_id: str | None) -> None:
    """Each ticket with its tracker key and URL, and any tracker write still pending or failed."""
    from triage_tui.store.tracker_queries import list_tickets

    config = load(ctx)
    _open(config)
    try:
        found = list_tickets(limit=limit, ticket_id=ticket_id)
    except Exception as exc:  # noqa: BLE001 - a dead database is one line
        fail(f"cannot read the database: {exc}")
    if as_json:
        for item in found:
            click.echo(json.dumps(item.model_dump(mode="json"), ensure_ascii=False))
        return
    if not found:
        click.echo("no tickets")
        return
    for item in found:
        keys = ", ".join(f"{link.tracker}: {link.external_key}" + (f" {link.url}" if link.url else "")
                         for link in item.links) or "no tracker key yet"
        click.echo(f"{item.ticket_id}  {keys}")
        for write in item.open_writes:
            click.echo(_write_line(write))


@tickets.command("retry")
@click.argument("target")
@click.option("--actor", default=None, help="Who asks for the retry (default: console.operator, then the login name).")
@click.pass_context
def retry(ctx: click.Context, target: str, actor: str | None) -> None:
    """Queue the failed tracker writes of ticket TARGET (or the one write with that command_result_id) again.

    A write whose outcome was unknown is looked for in the tracker first, so it is never written twice.
    """
    from triage_tui.store.tracker_queries import retry_writes

    config = load(ctx)
    _open(config)
    requeued = retry_writes(target, actor=_actor(config, actor))
    if not requeued:
        fail(f"no failed tracker write for {target!r} (see `triage-tui tickets list`)")
    click.echo(f"{len(requeued)} tracker write(s) queued again: {', '.join(requeued)}")


@tickets.command("sync")
@click.option("--tracker", "names", multiple=True, help="Only this tracker (repeat for several).")
@click.pass_context
def sync(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Write every tracker write that is due now, then exit (the worker does this continuously)."""
    from triage_tui.outbound.tracker_dispatch import dispatch_tracker_once
    from triage_tui.trackers.base import TrackerError
    from triage_tui.trackers.registry import build_tracker, external_trackers

    config = load(ctx)
    wanted = list(names) or external_trackers(config)
    unknown = [n for n in wanted if n not in config.trackers]
    if unknown:
        fail(f"no tracker named {unknown[0]!r} in the config", code=2)
    _open(config)
    owner = f"sync-{socket.gethostname()}-{os.getpid()}"
    problems = 0
    for name in wanted:
        try:
            tracker = build_tracker(config, name)
        except TrackerError as exc:
            click.echo(f"triage-tui: {exc}", err=True)
            problems += 1
            continue
        total = written = 0
        try:
            while True:
                report = dispatch_tracker_once(config, tracker, owner=owner, max_writes=50)
                total += report.claimed
                written += report.written
                for error in report.errors:
                    click.echo(f"triage-tui: {error}", err=True)
                if report.paused:
                    click.echo(f"{name}: tracker writes are paused (`triage-tui resume --trackers`)")
                    break
                if report.claimed == 0 or report.blocked_until:
                    break
        finally:
            tracker.close()
        click.echo(f"{name}: {written} written of {total} attempted")
    if problems:
        raise SystemExit(1)
