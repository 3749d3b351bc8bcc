"""`triage-tui doctor [--json]`: one line per check, non-zero exit on any failure."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from triage_tui.config import Config, api_key, webhook_secrets
from triage_tui.provision.common import config_file, make_gateway


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check config, key, grants, workspaces, webhook, secret, database, clock and environment."""
    from triage_tui.provision.doctor import run_checks

    key = api_key()

    def gateway_for(config: Config):
        return make_gateway(config.nylas, key) if key else None

    checks = run_checks(config_file(ctx), gateway_for=gateway_for, secrets=webhook_secrets())
    failed = [c for c in checks if c.status == "fail"]
    if as_json:
        click.echo(json.dumps({"ok": not failed, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        for check in checks:
            click.echo(check.line())
        click.echo(f"{len(failed)} problem{'s' if len(failed) != 1 else ''} found." if failed
                   else "Everything checked is in order.")
    ctx.exit(1 if failed else 0)
