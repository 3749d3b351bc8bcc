"""`triage-tui sandbox`: run the Nylas-compatible server in the foreground."""

from __future__ import annotations

import signal
import sys
import threading

import click

from triage_tui.sandbox.state import DEFAULT_API_KEY, DEFAULT_EMAIL, DEFAULT_GRANT_ID, SandboxOptions


def _rate(ctx, param, value):
    if value is not None and not 0 <= value <= 1:
        raise click.BadParameter("must be between 0 and 1")
    return value


def banner(running) -> str:
    """What a user needs to point the app (or the SDK) at this sandbox."""
    sb = running.sandbox
    lines = ["triage-tui sandbox is serving a Nylas v3 compatible API",
             f"  api_uri:  {running.api_uri}", f"  api_key:  {running.api_key}"]
    for grant_id in running.grant_ids:
        box = sb.mailboxes[grant_id]
        lines.append(f"  grant_id: {grant_id}  ({box.email}, {len(box.messages)} messages)")
    if sb.import_skipped:
        lines.append(f"  import skipped {len(sb.import_skipped)} mail(s):")
        lines += [f"    {name}: {reason}" for name, reason in sb.import_skipped[:20]]
    lines += ["", "Set up triage-tui against it in another terminal:",
              f"  export NYLAS_API_KEY={running.api_key}",
              f"  triage-tui init --api-uri {running.api_uri}",
              "", "or write the config (TOML) yourself:", "  [nylas]", f'  api_uri = "{running.api_uri}"']
    for grant_id in running.grant_ids:
        grant = sb.grants[grant_id]
        ws = sb.guardrails.workspaces[grant["workspace_id"]]
        lines += ["", "  [[inboxes]]", f'  grant_id = "{grant_id}"', f'  email = "{grant["email"]}"',
                  f'  workspace_id = "{ws["workspace_id"]}"', f'  policy_id = "{ws["policy_id"]}"']
    lines += ["", "Press Ctrl-C to stop."]
    return "\n".join(lines)


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one).")
@click.option("--api-key", default=DEFAULT_API_KEY, show_default=True,
              help="The bearer key clients must send.")
@click.option("--grant-id", "grant_ids", multiple=True,
              help=f"Grant to serve; repeat for several (default {DEFAULT_GRANT_ID}).")
@click.option("--email", "emails", multiple=True,
              help=f"Agent Account address per grant, in --grant-id order (default {DEFAULT_EMAIL}).")
@click.option("--seed", default=7, show_default=True, type=int, help="Seed of the generated mailbox and faults.")
@click.option("--messages", default=None, type=click.IntRange(0, 100_000),
              help="Generated messages per grant (default 300, or 0 with --import).")
@click.option("--import", "import_path", type=click.Path(), default=None,
              help="Also load real mail: a directory of .eml files, a maildir, or an mbox.")
@click.option("--latency-ms", default=0, type=click.IntRange(0, 60_000), help="Added to every API request.")
@click.option("--drip-per-min", default=0.0, type=click.FloatRange(0, 6000),
              help="Deliver this many new inbound mails per minute.")
@click.option("--rate-429", type=float, callback=_rate, help="Share of API requests answered 429.")
@click.option("--retry-after-s", type=click.FloatRange(0), help="Retry-After sent with injected 429s.")
@click.option("--rate-5xx", type=float, callback=_rate, help="Share of API requests answered 5xx.")
@click.option("--slow-ms", type=click.IntRange(0), help="Delay every API response by this much.")
@click.option("--html-502-rate", type=float, callback=_rate, help="Share answered with an HTML 502 page.")
@click.option("--duplicate-webhooks", is_flag=True, help="Deliver every webhook twice.")
@click.option("--id-churn-rate", type=float, callback=_rate,
              help="Share of message ids whose first GET is a 404.")
@click.option("--domain", "domains", multiple=True,
              help="Another domain registered for new Agent Accounts (those of --email always are).")
@click.option("--bounce-domain", "bounce_domains", multiple=True,
              help="Sends to this recipient domain bounce (message.bounced); repeatable.")
@click.option("--reject-domain", "reject_domains", multiple=True,
              help="Sends to this recipient domain are rejected (message.rejected); repeatable.")
@click.option("--complaint-domain", "complaint_domains", multiple=True,
              help="Recipients on this domain mark our mail as spam (message.complaint); repeatable.")
@click.option("--fail-domain", "fail_domains", multiple=True,
              help="Sends to this domain are queued (202) and then fail (message.send_failed); repeatable.")
@click.option("--tracker", "trackers", multiple=True,
              type=click.Choice(["github", "jira", "linear", "zendesk", "webhook"]),
              help="Also serve a fake ticket tracker of this kind on a free port; repeat for several.")
def sandbox(host, port, api_key, grant_ids, emails, seed, messages, import_path, latency_ms,
            drip_per_min, rate_429, retry_after_s, rate_5xx, slow_ms, html_502_rate,
            duplicate_webhooks, id_churn_rate, domains, bounce_domains, reject_domains,
            complaint_domains, fail_domains, trackers) -> None:
    """Run the bundled Nylas v3 compatible server with a seeded mailbox (HTTP on loopback)."""
    from triage_tui.cli import fail
    from triage_tui.sandbox.runner import SandboxStartError, start_sandbox
    from triage_tui.sandbox.trackers.runner import config_snippet, start_tracker_fake

    faults = {"latency_ms": latency_ms, "rate_429": rate_429, "retry_after_s": retry_after_s,
              "rate_5xx": rate_5xx, "slow_ms": slow_ms, "html_502_rate": html_502_rate,
              "duplicate_webhooks": duplicate_webhooks or None, "id_churn_rate": id_churn_rate}
    if len(set(grant_ids)) != len(grant_ids):
        fail("--grant-id: each grant id must be different", code=2)
    options = SandboxOptions(
        api_key=api_key, grant_ids=list(grant_ids) or [DEFAULT_GRANT_ID], emails=list(emails),
        seed=seed, messages=messages if messages is not None else (0 if import_path else 300),
        import_path=import_path, domains=list(domains),
        delivery={"bounce_domains": list(bounce_domains), "reject_domains": list(reject_domains),
                  "complaint_domains": list(complaint_domains), "fail_domains": list(fail_domains)},
        faults={k: v for k, v in faults.items() if v is not None})
    fakes = []
    try:
        running = start_sandbox(options, host=host, port=port, drip_per_min=drip_per_min)
        fakes = [start_tracker_fake(kind, host=host) for kind in dict.fromkeys(trackers)]
    except (SandboxStartError, ValueError, OSError) as exc:
        fail(str(exc))
    stop_line = "\n\nPress Ctrl-C to stop."
    click.echo(banner(running).removesuffix(stop_line))
    for fake in fakes:
        toml, env = config_snippet(fake)
        click.echo("\n".join(["", f"Fake {fake.kind} tracker at {fake.url}:", *[f"  {line}" for line in env],
                              *[f"  {line}" for line in toml]]))
    click.echo(stop_line[1:])
    sys.stdout.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    for fake in fakes:
        fake.stop()
    running.stop()
    click.echo("sandbox stopped")
