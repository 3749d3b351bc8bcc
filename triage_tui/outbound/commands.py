"""Runbook commands: `pause`, `resume` and `audit export`."""

from __future__ import annotations

import getpass
import json
import re
import sys
from datetime import datetime, timedelta, timezone

import click

from triage_tui.cli import fail, load
from triage_tui.config import Config
from triage_tui.store.control import STOP_SWITCH as STOP_SWITCH_KEY

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: str) -> timedelta:
    """`30m`, `2h`, `1h30m`, `45s`, `1d` (a bare number is minutes); ValueError otherwise."""
    text = (text or "").strip().lower()
    if text.isdigit():
        return timedelta(minutes=int(text))
    match = _DURATION.match(text)
    if not text or not match or not any(match.groups()):
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 2h, 1h30m, 45s, 1d)")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    value = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if value.total_seconds() <= 0:
        raise ValueError("the duration must be longer than zero")
    return value


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """An ISO date/time (UTC when no zone) or a duration ago (`2h` = two hours ago)."""
    now = now or datetime.now(timezone.utc)
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a time: {text!r} (use an ISO time like 2026-11-27T03:00 or a duration like 2h)")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _open(config: Config) -> None:
    from triage_tui.store.db import open_database

    open_database(config.database)  # a database that cannot be used is one line (cli.LazyGroup.invoke)


def _actor(config: Config, actor: str | None) -> str:
    if actor:
        return actor
    if config.console.operator:
        return config.console.operator
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


@click.command()
@click.option("--reason", required=True, help="Why sends are paused (recorded in the audit trail).")
@click.option("--for", "duration", default=None, help="Resume by itself after this long: 30m, 2h, 1h30m.")
@click.option("--actor", default=None, help="Who is pausing (default: console.operator, then the login name).")
@click.option("--trackers", is_flag=True,
              help="Pause tracker writes only (GitHub, Jira...); customer mail is not affected.")
@click.pass_context
def pause(ctx: click.Context, reason: str, duration: str | None, actor: str | None, trackers: bool) -> None:
    """Turn the stop switch on: no send starts until `resume`. Nothing is deleted or cancelled."""
    from triage_tui.store.control import TRACKER_PAUSE, set_stop_switch
    from triage_tui.store.outbox import count_waiting
    from triage_tui.store.transient import retrying

    config = load(ctx)
    if not reason.strip():
        fail("--reason must not be empty")
    until = None
    if duration:
        try:
            until = datetime.now(timezone.utc) + parse_duration(duration)
        except ValueError as exc:
            fail(str(exc))
    _open(config)
    switch = set_stop_switch(True, actor=_actor(config, actor), reason=reason, until=until,
                             tenant_id=config.tenant_id, environment=config.environment,
                             key=TRACKER_PAUSE if trackers else STOP_SWITCH_KEY)
    until_text = f" until {switch.until.isoformat(timespec='seconds')}" if switch.until else " until resumed"
    if trackers:
        click.echo(f"tracker writes PAUSED{until_text} (by {switch.actor}: {switch.reason}); "
                   f"{_tracker_waiting()} tracker write(s) waiting; customer mail is not affected")
        return
    waiting = retrying(count_waiting)
    click.echo(f"stop switch ON{until_text} (by {switch.actor}: {switch.reason}); {waiting} send(s) waiting")


@click.command()
@click.option("--actor", default=None, help="Who is resuming (default: console.operator, then the login name).")
@click.option("--trackers", is_flag=True, help="Resume tracker writes only (the stop switch stays as it is).")
@click.pass_context
def resume(ctx: click.Context, actor: str | None, trackers: bool) -> None:
    """Turn the stop switch off; prints how many waiting sends will now go."""
    from triage_tui.store.control import TRACKER_PAUSE, set_stop_switch
    from triage_tui.store.outbox import count_waiting
    from triage_tui.store.transient import retrying

    config = load(ctx)
    _open(config)
    set_stop_switch(False, actor=_actor(config, actor), tenant_id=config.tenant_id,
                    environment=config.environment, key=TRACKER_PAUSE if trackers else STOP_SWITCH_KEY)
    if trackers:
        click.echo(f"tracker writes resumed; {_tracker_waiting()} tracker write(s) will go")
        return
    click.echo(f"stop switch OFF; {retrying(count_waiting)} send(s) will go")


def _tracker_waiting() -> int:
    from triage_tui.store.tracker_queries import count_pending

    return count_pending()


@click.group()
def audit() -> None:
    """The audit trail of every side effect."""


@audit.command("export")
@click.option("--since", default=None, help="Only rows at or after this time: ISO time, or a duration ago (2h).")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True,
              help="Output format: one JSON object per line.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of stdout.")
@click.pass_context
def export(ctx: click.Context, since: str | None, fmt: str, output: str | None) -> None:
    """Write the audit trail, oldest first."""
    from triage_tui.store.audit import iter_audit

    config = load(ctx)
    moment = None
    if since:
        try:
            moment = parse_since(since)
        except ValueError as exc:
            fail(str(exc))
    _open(config)
    try:
        stream = open(output, "w", encoding="utf-8") if output else sys.stdout
    except OSError as exc:
        fail(f"cannot write {output}: {exc}")
    count = 0
    try:
        for event in iter_audit(since=moment):
            stream.write(json.dumps(event.model_dump(mode="json"), ensure_ascii=False) + "\n")
            count += 1
    finally:
        if output:
            stream.close()
    if output:
        click.echo(f"wrote {count} audit row(s) to {output}", err=True)
