"""`triage-tui init`: from an API key to a guarded Agent Account, a webhook and a config, idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import click
from pydantic import ValidationError

from triage_tui.config import WEBHOOK_SECRET_ENV, Config, ConfigError, NylasConfig, load_config, parse_config
from triage_tui.nylas.admin import AdminGateway
from triage_tui.nylas.errors import GatewayError
from triage_tui.outbound.policy import is_loopback
from triage_tui.provision import configfile
from triage_tui.provision.common import REGIONS, config_file, make_gateway, require_key, with_config_flag
from triage_tui.provision.converge import Event, Outcome, ProvisionError, Provisioner, Wanted
from triage_tui.provision.ruleset import DEFAULT_NAME, RulesetError, default_text, parse_ruleset



@dataclass
class Answers:
    """Everything init decided before touching the application."""

    api_uri: str
    environment: str
    tenant_id: str
    grant_id: str
    email: str
    name: str
    webhook_url: str


def _fail(message: str, code: int = 1):
    from triage_tui.cli import fail

    fail(message, code=code)


def _existing(path: Path) -> Config | None:
    if not path.exists():
        return None
    try:
        return load_config(path)
    except ConfigError as exc:
        _fail(str(exc), 2)


def _api_uri(region: str | None, api_uri: str | None, existing: Config | None, interactive: bool) -> str:
    if api_uri:
        chosen = api_uri
    elif region:
        chosen = REGIONS[region]
    elif existing is not None:
        chosen = existing.nylas.api_uri
    elif interactive:
        chosen = REGIONS[click.prompt("Nylas region", type=click.Choice(sorted(REGIONS)), default="us")]
    else:
        _fail("pass --region us|eu (or --api-uri URL for the sandbox)", 2)
    try:
        return NylasConfig(api_uri=chosen).api_uri
    except ValidationError as exc:
        _fail(f"--api-uri: {exc.errors()[0]['msg']}", 2)


def _environment(flag: str | None, api_uri: str, existing: Config | None, interactive: bool) -> str:
    if flag:
        return flag
    if is_loopback((urlparse(api_uri).hostname or "").lower()):
        return "test"
    if existing is not None and existing.nylas.api_uri == api_uri:
        return existing.environment
    if interactive:
        click.echo(f"{api_uri} is a real Nylas API: \"production\" sends real mail (after approval); "
                   "\"test\" never sends through it.")
        return click.prompt("Environment", type=click.Choice(["production", "test"]))
    _fail(f"{api_uri} is a real Nylas API: pass --environment production (real sends) or "
          "--environment test (reads only; sends need outbound.sink_api_uri)", 2)


def _choose_account(gateway: AdminGateway, grant_id: str | None, email: str | None, name: str | None,
                    existing: Config | None, interactive: bool) -> tuple[str, str, str]:
    """(grant_id, email, name) of the account to use; a blank grant id means create it."""
    if grant_id or email:
        return grant_id or "", email or "", name or ""
    configured = existing.inboxes[0] if existing is not None and existing.inboxes else None
    if not interactive:
        if configured is None:
            _fail("pass --email ADDRESS (reused if it exists, created if not) or --grant-id ID", 2)
        return configured.grant_id, configured.email, configured.name
    accounts = gateway.list_grants()
    if accounts:
        click.echo("Agent Accounts of this application:")
        for number, grant in enumerate(accounts, 1):
            click.echo(f"  {number}) {grant.email}  ({grant.name or 'no name'}, grant {grant.id})")
        click.echo("  n) create a new Agent Account")
        default = next((str(n) for n, g in enumerate(accounts, 1)
                        if configured is not None and g.id == configured.grant_id), "1")
        choice = click.prompt("Use which", type=click.Choice([*map(str, range(1, len(accounts) + 1)), "n"]),
                              default=default)
        if choice != "n":
            chosen = accounts[int(choice) - 1]
            return chosen.id, chosen.email, chosen.name
    else:
        click.echo("This application has no Agent Account yet: let us create one.")
    address = click.prompt("Address of the new Agent Account (its domain must be registered)",
                           value_proc=_address)
    return "", address, click.prompt("Its display name", default=name or "Support")


def _address(value: str) -> str:
    value = value.strip()
    if "@" not in value or value.startswith("@") or value.endswith("@"):
        raise click.BadParameter("an address like support@yourapp.nylas.email")
    return value


def _webhook_url(flag: str | None, none: bool, existing: Config | None, interactive: bool) -> str:
    if none:
        return ""
    if flag is not None:
        return flag.strip()
    configured = existing.webhook.public_url if existing is not None else ""
    if configured or not interactive:
        return configured
    return click.prompt("Public HTTPS URL of your webhook receiver (Enter for none: the worker polls)",
                        default="", show_default=False).strip()


def _ruleset(flag: str | None, path: Path, dry_run: bool) -> tuple[Path, str, str]:
    """(path, text, a line saying where the guardrails come from)."""
    target = Path(flag) if flag else path.parent / DEFAULT_NAME
    if target.exists():
        try:
            text = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"{target}: cannot read the ruleset: {exc}", 2)
        return target, text, f"Guardrails from {target} (edit it and run init again)."
    if flag:
        _fail(f"--ruleset {flag}: file not found", 2)
    text = default_text()
    if dry_run:
        return target, text, f"Guardrails: the bundled default (init writes it to {target} for you to edit)."
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target, text, f"Guardrails: the bundled default, written to {target} (edit it and run init again)."


def _database(config: Config, dry_run: bool) -> Event:
    from triage_tui.store.db import SCHEMA_VERSION, StoreError, inspect_schema, open_database

    url = config.database.resolved_url()
    try:
        current, pending = inspect_schema(config.database)
        if not pending:
            return Event("database", url, "reuse" if dry_run else "reused", detail=f"schema {current}")
        if not dry_run:
            open_database(config.database)
    except StoreError as exc:
        raise ProvisionError(f"preparing the database: {exc}", []) from None
    action = "create" if current is None else "update"
    return Event("database", url, f"would {action}" if dry_run else f"{action}d", detail=f"schema {SCHEMA_VERSION}")


def _record(path: Path, answers: Answers, outcome: Outcome, dry_run: bool) -> tuple[Event, Config]:
    grant = outcome.grant
    setup = configfile.Setup(
        api_uri=answers.api_uri, environment=answers.environment, tenant_id=answers.tenant_id,
        grant_id=grant.id if grant else "", email=grant.email if grant else answers.email,
        workspace_id=outcome.workspace_id, policy_id=outcome.policy_id,
        name=(grant.name if grant else "") or answers.name, webhook_url=answers.webhook_url,
        webhook_id=outcome.webhook_id if answers.webhook_url else "")
    if dry_run:
        action, text = configfile.change(path, setup)
        label = {"unchanged": "reuse"}.get(action, f"would {action.removesuffix('d')}")
        return Event("config", str(path), label), parse_config(text, source=str(path))
    action = configfile.write(path, setup)
    return Event("config", str(path), {"unchanged": "reused"}.get(action, action)), load_config(path)


def _finish(path: Path, answers: Answers, outcome: Outcome, dry_run: bool) -> Config:
    """The database and config steps, reported like the others."""
    event, config = _record(path, answers, outcome, dry_run)
    for step in (_database(config, dry_run), event):
        outcome.events.append(step)
        click.echo(step.line())
    return config


@click.command()
@click.option("--region", type=click.Choice(sorted(REGIONS)), help="Your Nylas region.")
@click.option("--api-uri", help="The API base URL instead of a region (the sandbox: http://127.0.0.1:8080).")
@click.option("--email", help="The Agent Account to use: reused if it exists, created if not.")
@click.option("--grant-id", help="An existing Agent Account grant to use.")
@click.option("--name", help="Display name of an Agent Account init creates.")
@click.option("--workspace", "workspace_name", default="triage-tui", show_default=True,
              help="Workspace (and policy, rules, lists) name to create or reuse.")
@click.option("--ruleset", "ruleset_flag", type=click.Path(dir_okay=False),
              help=f"Guardrails TOML (default: {DEFAULT_NAME} beside the config, written from the bundled one).")
@click.option("--webhook-url", help="Public HTTPS URL of your `triage-tui webhook` receiver.")
@click.option("--no-webhook", is_flag=True, help="Register no webhook: the worker polls.")
@click.option("--rotate-secret", is_flag=True, help="Give the existing webhook a new secret (printed once).")
@click.option("--environment", type=click.Choice(["test", "production"]), help="test or production.")
@click.option("--tenant-id", help="The tenant recorded on every ticket and audit row.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing anywhere.")
@click.option("--non-interactive", is_flag=True, help="Never ask: take every answer from flags or the config.")
@click.pass_context
def init(ctx: click.Context, region, api_uri, email, grant_id, name, workspace_name, ruleset_flag,
         webhook_url, no_webhook, rotate_secret, environment, tenant_id, dry_run, non_interactive) -> None:
    """Set up an Agent Account, its workspace, policy, rules and webhook, and write the config."""
    interactive = not non_interactive
    path = config_file(ctx)
    explicit = (ctx.find_root().obj or {}).get("config_file") is not None
    existing = _existing(path)
    key = require_key()
    uri = _api_uri(region, api_uri, existing, interactive)
    gateway = make_gateway((existing.nylas if existing else NylasConfig()).model_copy(update={"api_uri": uri}),
                           key)
    env = _environment(environment, uri, existing, interactive)
    try:
        gateway.probe()
        click.echo(f"Nylas API {uri}: key accepted.")
        answers = Answers(uri, env, tenant_id or (existing.tenant_id if existing else "default"),
                          *_choose_account(gateway, grant_id, email, name, existing, interactive),
                          webhook_url=_webhook_url(webhook_url, no_webhook, existing, interactive))
    except GatewayError as exc:
        _fail(f"{uri}: {exc}")
    rules_path, rules_text, rules_note = _ruleset(ruleset_flag, path, dry_run)
    try:
        ruleset = parse_ruleset(rules_text, str(rules_path))
    except RulesetError as exc:
        _fail(str(exc), 2)
    wanted = Wanted(ruleset=ruleset, workspace_name=workspace_name, grant_id=answers.grant_id,
                    email=answers.email, name=answers.name, webhook_url=answers.webhook_url,
                    rotate_secret=rotate_secret)
    click.echo(rules_note)
    if dry_run:
        _plan(gateway, wanted, path, answers)
        click.echo("Dry run: nothing was created or written.")
        return
    if interactive:
        planned, config = _plan(gateway, wanted, path, answers)
        if not planned.changed:
            _summary(planned, config, path, explicit)
            return
        if not click.confirm("Apply this plan?", default=True):
            click.echo("Nothing was changed.")
            return
    click.echo("Setting up:")
    try:
        outcome = Provisioner(gateway, wanted, report=lambda e: click.echo(e.line())).run()
        config = _finish(path, answers, outcome, dry_run=False)
    except ProvisionError as exc:
        _stopped(exc, path)
    _summary(outcome, config, path, explicit)


def _plan(gateway: AdminGateway, wanted: Wanted, path: Path, answers: Answers) -> tuple[Outcome, Config]:
    click.echo("Plan:")
    try:
        outcome = Provisioner(gateway, wanted, dry_run=True, report=lambda e: click.echo(e.line())).run()
        config = _finish(path, answers, outcome, dry_run=True)
    except ProvisionError as exc:
        _stopped(exc, path)
    return outcome, config


def _stopped(exc: ProvisionError, path: Path) -> None:
    click.echo(f"triage-tui: init stopped: {exc}", err=True)
    if "challenge" in str(exc):
        click.echo("  Nylas checks the URL first: start the receiver before init, e.g. "
                   "`triage-tui webhook --challenge-only` behind your HTTPS proxy.", err=True)
    kept = [e for e in exc.events if e.object_id]
    if kept:
        click.echo("What exists now (nothing was undone):", err=True)
        for event in kept:
            click.echo(event.line(), err=True)
    else:
        click.echo("Nothing was created.", err=True)
    click.echo(f"The config {path} was not changed. Fix the cause and run init again: it reuses all of the above.",
               err=True)
    raise SystemExit(1)


def _summary(outcome: Outcome, config: Config, path: Path, explicit: bool) -> None:
    if outcome.changed:
        click.echo("Done.")
    else:
        click.echo("Everything was already set up: nothing was created or changed.")
    if outcome.webhook_secret:
        click.echo("")
        click.echo("The webhook's secret, shown this once (Nylas never shows it again):")
        click.echo(f"  {WEBHOOK_SECRET_ENV}={outcome.webhook_secret}")
        click.echo(f"Put it in the environment of `triage-tui webhook` (and where you run doctor), then restart "
                   "the receiver. Lost it? `triage-tui init --rotate-secret`.")
    elif not config.webhook.public_url:
        click.echo(f"No webhook: the worker polls every {config.worker.poll_interval_s:g} s. "
                   "Run init again with --webhook-url when you have a public HTTPS URL.")
    click.echo(f"Next: {with_config_flag('doctor', path, explicit)}, then {with_config_flag('', path, explicit)}")


