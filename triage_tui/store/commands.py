"""`triage-tui migrate`: apply pending schema migrations before a roll-out, or check for them."""

from __future__ import annotations

import click

from triage_tui.cli import fail, load


@click.command()
@click.option("--check", is_flag=True, help="Apply nothing; exit 1 when migrations are pending.")
@click.pass_context
def migrate(ctx: click.Context, check: bool) -> None:
    """Bring the database schema to this release's version (opening a current schema changes nothing)."""
    from triage_tui.store.db import SCHEMA_VERSION, migrate as apply_migrations, open_database, pending_steps
    from triage_tui.store.transient import database_label, retrying

    config = load(ctx)
    db = open_database(config.database, migrate_schema=False)
    where = database_label(db)
    if check:
        steps = retrying(pending_steps, db)
        if steps:
            click.echo(f"{where}: {len(steps)} migration(s) pending:")
            for step in steps:
                click.echo(f"  {step}")
            fail(f"the schema of {where} is behind this release (version {SCHEMA_VERSION}); "
                 "run `triage-tui migrate`")
        click.echo(f"{where}: the schema is current (version {SCHEMA_VERSION})")
        return
    applied = retrying(apply_migrations, db)
    if applied:
        click.echo(f"{where}: applied {len(applied)} step(s):")
        for step in applied:
            click.echo(f"  {step}")
        click.echo(f"{where}: the schema is now at version {SCHEMA_VERSION}")
    else:
        click.echo(f"{where}: the schema is current (version {SCHEMA_VERSION}); nothing to apply")
