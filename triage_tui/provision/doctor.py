"""The checks behind `triage-tui doctor`: one result per check, each naming what is wrong."""

from __future__ import annotations

import secrets as random_tokens
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

import httpx

from triage_tui.config import API_KEY_ENV, WEBHOOK_SECRET_ENV, Config, ConfigError, InboxConfig, load_config
from triage_tui.nylas.admin import AdminGateway
from triage_tui.nylas.admin_types import AgentGrant, ApiProbe
from triage_tui.nylas.errors import AuthError, GatewayError, NotFound
from triage_tui.outbound.policy import is_loopback

MAX_CLOCK_SKEW_S = 60
RECEIVER_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Check:
    """One line of the report: ok, fail, warn (does not fail the run) or skip."""

    name: str
    status: str
    detail: str

    def line(self) -> str:
        """The check as one aligned line."""
        label = "FAIL" if self.status == "fail" else self.status
        return f"{label:<5} {self.name:<15} {self.detail}"


def _is_loopback(url: str) -> bool:
    return is_loopback((urlparse(url).hostname or "").lower())


def check_config(path: Path) -> tuple[Check, Config | None]:
    """The config file exists, parses, and names at least one inbox."""
    if not path.exists():
        return Check("config", "fail", f"no config at {path}: run `triage-tui init`"), None
    try:
        config = load_config(path)
    except ConfigError as exc:
        return Check("config", "fail", str(exc)), None
    if not config.inboxes:
        return Check("config", "fail", f"{path} has no [[inboxes]]: run `triage-tui init`"), None
    inboxes = f"{len(config.inboxes)} inbox{'es' if len(config.inboxes) > 1 else ''}"
    return Check("config", "ok", f"{path}: {inboxes}, environment {config.environment}"), config


def check_environment(config: Config) -> Check:
    """test reaches only a sandbox (or a sink); production never points at a sandbox."""
    uri = config.nylas.api_uri
    if config.environment == "test":
        if _is_loopback(uri):
            return Check("environment", "ok", f"test, on the sandbox at {uri}")
        if config.outbound.sink_api_uri:
            return Check("environment", "ok", f"test: reads {uri}, sends only to the sink "
                                              f"{config.outbound.sink_api_uri}")
        return Check("environment", "fail", f"test points at {uri}, not a sandbox: set environment = "
                                            "\"production\" or outbound.sink_api_uri")
    if _is_loopback(uri):
        return Check("environment", "fail", f"production points at the sandbox at {uri}")
    return Check("environment", "ok", f"production, on {uri}")


def check_database(config: Config) -> Check:
    """The store opens and is at the schema this release writes (nothing is created or migrated)."""
    from triage_tui.store.db import SCHEMA_VERSION, StoreError, inspect_schema

    url = config.database.resolved_url()
    try:
        current, pending = inspect_schema(config.database)
    except StoreError as exc:
        return Check("database", "fail", str(exc))
    if current is None:
        return Check("database", "fail", f"no store at {url} yet: run `triage-tui init` (or start triage-tui once)")
    if pending:
        return Check("database", "fail", f"{url} is at schema {current}, this release needs {SCHEMA_VERSION}: "
                                         "the next triage-tui start migrates it")
    return Check("database", "ok", f"{url} at schema {current}")


def check_key(gateway: AdminGateway | None, config: Config) -> tuple[Check, ApiProbe | None]:
    """NYLAS_API_KEY is set and the API accepts it."""
    uri = config.nylas.api_uri
    if gateway is None:
        return Check("api key", "fail", f"{API_KEY_ENV} is not set here"), None
    try:
        probe = gateway.probe()
    except AuthError as exc:
        return Check("api key", "fail", f"refused by {uri} ({exc.status}): revoked, wrong, or for another "
                                        "application"), None
    except GatewayError as exc:
        return Check("api key", "fail", f"cannot check it: {uri}: {exc}"), None
    return Check("api key", "ok", f"accepted by {uri}"), probe


def check_clock(probe: ApiProbe, now: Callable[[], datetime]) -> Check:
    """This machine's clock agrees with the API's Date header."""
    if probe.server_date is None:
        return Check("clock", "warn", "the API sent no Date header to compare with")
    skew = (now() - probe.server_date).total_seconds()
    if abs(skew) > MAX_CLOCK_SKEW_S:
        side = "ahead of" if skew > 0 else "behind"
        return Check("clock", "fail", f"this machine is {abs(skew):.0f} s {side} the API's Date header "
                                      f"(allowed: {MAX_CLOCK_SKEW_S} s); fix NTP")
    return Check("clock", "ok", f"within {max(1, round(abs(skew)))} s of the API's Date header")


def check_grant(gateway: AdminGateway, inbox: InboxConfig) -> tuple[Check, AgentGrant | None]:
    """The configured grant exists, is a valid Agent Account, and has the configured address."""
    name = "grant"
    try:
        grant = gateway.find_grant(inbox.grant_id)
    except NotFound:
        return Check(name, "fail", f"{inbox.grant_id} ({inbox.email}) does not exist: deleted, or the wrong id "
                                   "in the config"), None
    except GatewayError as exc:
        return Check(name, "fail", f"{inbox.grant_id}: {exc}"), None
    problem = ""
    if not grant.is_agent_account:
        problem = f"is a {grant.provider or 'non-Nylas'} grant, not an Agent Account"
    elif grant.email.lower() != inbox.email.lower():
        problem = f"is {grant.email}, the config says {inbox.email}"
    elif grant.grant_status not in ("", "valid"):
        problem = f"is {grant.grant_status}"
    elif grant.blocked:
        problem = "is blocked"
    if problem:
        return Check(name, "fail", f"{inbox.grant_id} {problem}"), None
    return Check(name, "ok", f"{inbox.email}: Agent Account, valid ({inbox.grant_id})"), grant


def check_workspace(gateway: AdminGateway, inbox: InboxConfig, grant: AgentGrant) -> Check:
    """The grant is in the configured workspace, and that workspace has the configured policy."""
    if not inbox.workspace_id or not inbox.policy_id:
        return Check("workspace", "fail", f"{inbox.email}: the config has no workspace_id/policy_id: "
                                          "run `triage-tui init`")
    if grant.workspace_id != inbox.workspace_id:
        return Check("workspace", "fail", f"{inbox.email} is in workspace {grant.workspace_id or '(none)'}, "
                                          f"the config says {inbox.workspace_id}")
    try:
        workspace = gateway.find_workspace(inbox.workspace_id)
        if workspace.policy_id != inbox.policy_id:
            return Check("workspace", "fail", f"workspace {workspace.name or workspace.id} has policy "
                                              f"{workspace.policy_id or '(none)'}, the config says {inbox.policy_id}")
        gateway.find_policy(inbox.policy_id)
    except NotFound as exc:
        return Check("workspace", "fail", f"{inbox.email}: {exc.message}")
    except GatewayError as exc:
        return Check("workspace", "fail", f"{inbox.email}: {exc}")
    return Check("workspace", "ok", f"{inbox.email}: workspace {workspace.name or workspace.id} with policy "
                                    f"{inbox.policy_id} and {len(workspace.rule_ids)} rules")


def check_webhook(gateway: AdminGateway, config: Config) -> Check:
    """The registered webhook exists, is active, has every trigger and posts to the configured URL."""
    hook_id, url = config.webhook.webhook_id, config.webhook.public_url
    if not url and not hook_id:
        return Check("webhook", "ok", "none registered: the worker polls")
    if not hook_id:
        return Check("webhook", "fail", f"public_url is {url} but no webhook_id: run `triage-tui init`")
    try:
        hook = gateway.find_webhook(hook_id)
    except NotFound:
        return Check("webhook", "fail", f"{hook_id} does not exist (deleted?): run `triage-tui init` to "
                                        "register it again")
    except GatewayError as exc:
        return Check("webhook", "fail", f"{hook_id}: {exc}")
    problems = []
    if hook.status != "active":
        problems.append(f"is {hook.status or 'not active'}")
    if hook.missing():
        problems.append(f"lacks the trigger{'s' if len(hook.missing()) > 1 else ''} {', '.join(hook.missing())}")
    if url and hook.webhook_url != url:
        problems.append(f"posts to {hook.webhook_url}, the config says {url}")
    if problems:
        return Check("webhook", "fail", f"{hook_id} " + "; ".join(problems) + ": run `triage-tui init` to repair")
    return Check("webhook", "ok", f"{hook_id} active at {hook.webhook_url}, all {len(hook.trigger_types)} triggers")


def check_secret(config: Config, secrets: list[str]) -> Check:
    """Where the receiver runs, NYLAS_WEBHOOK_SECRET is set."""
    if not config.webhook.public_url and not config.webhook.webhook_id:
        return Check("webhook secret", "skip", "no webhook registered")
    if not secrets:
        return Check("webhook secret", "fail", f"{WEBHOOK_SECRET_ENV} is not set here: the receiver refuses "
                                               "every notification without it")
    rotating = " (two: rotating)" if len(secrets) > 1 else ""
    return Check("webhook secret", "ok", f"{WEBHOOK_SECRET_ENV} is set{rotating}")


def check_receiver(config: Config) -> Check:
    """The public URL answers Nylas's challenge (a warning only: this machine may not see it as Nylas does)."""
    url = config.webhook.public_url
    if not url:
        return Check("receiver", "skip", "no public URL")
    token = random_tokens.token_urlsafe(12)
    try:
        response = httpx.get(url, params={"challenge": token}, timeout=RECEIVER_TIMEOUT_S,
                             trust_env=not _is_loopback(url))
    except httpx.HTTPError as exc:
        return Check("receiver", "warn", f"{url} did not answer from here: {type(exc).__name__}")
    if response.status_code != 200 or response.text != token:
        return Check("receiver", "warn", f"{url} answered {response.status_code} without echoing the challenge")
    return Check("receiver", "ok", f"{url} answers the challenge")


def run_checks(path: Path, *, gateway_for: Callable[[Config], AdminGateway | None],
               secrets: list[str], now: Callable[[], datetime] | None = None) -> list[Check]:
    """Every check in order; later checks are skipped (not failed) when what they need is broken."""
    now = now or (lambda: datetime.now(timezone.utc))
    first, config = check_config(path)
    if config is None:
        return [first]
    checks = [first, check_environment(config)]
    gateway = gateway_for(config)
    key, probe = check_key(gateway, config)
    checks.append(key)
    if gateway is None or probe is None:
        checks += [Check(name, "skip", "not checked: no usable API key")
                   for name in ("clock", "grant", "webhook")]
    else:
        checks.append(check_clock(probe, now))
        for inbox in config.inboxes:
            grant_check, grant = check_grant(gateway, inbox)
            checks.append(grant_check)
            checks.append(check_workspace(gateway, inbox, grant) if grant else
                          Check("workspace", "skip", f"{inbox.email}: not checked: the grant is not usable"))
        checks.append(check_webhook(gateway, config))
    checks += [check_secret(config, secrets), check_receiver(config), check_database(config)]
    return checks
