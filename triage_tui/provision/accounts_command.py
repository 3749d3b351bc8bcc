"""`triage-tui accounts list|show|delete`: the Agent Accounts of the application."""

from __future__ import annotations

import json

import click

from triage_tui.config import Config, ConfigError, load_config
from triage_tui.nylas.admin import AdminGateway
from triage_tui.nylas.admin_types import AgentGrant
from triage_tui.nylas.errors import GatewayError, NotFound
from triage_tui.provision import configfile
from triage_tui.provision.common import config_file, make_gateway, require_key


def _fail(message: str, code: int = 1):
    from triage_tui.cli import fail

    fail(message, code=code)


def _setup(ctx: click.Context) -> tuple[Config, AdminGateway]:
    try:
        config = load_config(config_file(ctx))
    except ConfigError as exc:
        _fail(str(exc), 2)
    return config, make_gateway(config.nylas, require_key())


def _find(gateway: AdminGateway, ref: str) -> AgentGrant:
    """An Agent Account by address or grant id."""
    wanted = ref.strip().lower()
    grant = next((g for g in gateway.list_grants() if wanted in (g.id.lower(), g.email.lower())), None)
    if grant is None:
        _fail(f"no Agent Account {ref} in this application (`triage-tui accounts list` shows them)")
    return grant


def _row(grant: AgentGrant, config: Config, workspaces: dict[str, str]) -> dict:
    return {"email": grant.email, "name": grant.name, "grant_id": grant.id, "status": grant.grant_status,
            "workspace_id": grant.workspace_id, "workspace": workspaces.get(grant.workspace_id, ""),
            "configured": config.inbox(grant.id) is not None}


@click.group()
def accounts() -> None:
    """The Agent Accounts of the application: list, show, delete."""


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the accounts as JSON.")
@click.pass_context
def list_accounts(ctx: click.Context, as_json: bool) -> None:
    """Every Agent Account; `*` marks those this config triages."""
    config, gateway = _setup(ctx)
    try:
        grants = gateway.list_grants()
        workspaces = {w.id: w.name for w in gateway.list_workspaces()}
    except GatewayError as exc:
        _fail(f"{config.nylas.api_uri}: {exc}")
    rows = [_row(g, config, workspaces) for g in grants]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No Agent Account yet: `triage-tui init` creates one.")
        return
    width = max(len(r["email"]) for r in rows)
    for r in rows:
        mark = "*" if r["configured"] else " "
        click.echo(f"{mark} {r['email']:<{width}}  {r['status'] or '?':<7}  {r['workspace'] or r['workspace_id']:<16}"
                   f"  {r['grant_id']}  {r['name']}")


@accounts.command("show")
@click.argument("account")
@click.option("--json", "as_json", is_flag=True, help="Print the account as JSON.")
@click.pass_context
def show(ctx: click.Context, account: str, as_json: bool) -> None:
    """One account (by address or grant id): its grant, workspace, policy and rules."""
    config, gateway = _setup(ctx)
    try:
        grant = _find(gateway, account)
        details = _row(grant, config, {})
        if grant.workspace_id:
            try:
                ws = gateway.find_workspace(grant.workspace_id)
                details.update(workspace=ws.name, policy_id=ws.policy_id, rule_ids=ws.rule_ids)
                if ws.policy_id:
                    policy = gateway.find_policy(ws.policy_id)
                    details.update(policy=policy.name, limits=policy.limits, spam_detection=policy.spam_detection)
            except NotFound:
                details["workspace"] = "(not found)"
    except GatewayError as exc:
        _fail(f"{config.nylas.api_uri}: {exc}")
    if as_json:
        click.echo(json.dumps(details, indent=2))
        return
    for key, value in details.items():
        shown = ", ".join(value) if isinstance(value, list) else (
            ", ".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else value)
        click.echo(f"{key:<15} {shown}")


@accounts.command("delete")
@click.argument("account")
@click.option("--confirm", "confirmed", metavar="EMAIL",
              help="For scripts: the account's address, instead of typing it back.")
@click.pass_context
def delete(ctx: click.Context, account: str, confirmed: str | None) -> None:
    """Delete an Agent Account and all its mail, for good (asks for the address to be typed back)."""
    config, gateway = _setup(ctx)
    try:
        grant = _find(gateway, account)
    except GatewayError as exc:
        _fail(f"{config.nylas.api_uri}: {exc}")
    if confirmed is None:
        click.echo(f"This deletes the Agent Account {grant.email} ({grant.id}) and all of its mail. "
                   "It cannot be undone.")
        confirmed = click.prompt("Type the address to confirm", default="", show_default=False)
    if confirmed.strip().lower() != grant.email.lower():
        _fail(f"not deleted: {confirmed!r} is not {grant.email}")
    try:
        gateway.delete_grant(grant.id)
    except GatewayError as exc:
        _fail(f"{grant.email} was not deleted: {exc}")
    click.echo(f"Deleted {grant.email} ({grant.id}).")
    path = config_file(ctx)
    if configfile.remove_inbox(path, grant.id):
        click.echo(f"Removed its [[inboxes]] entry from {path}.")
