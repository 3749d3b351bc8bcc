"""Bring the application to the wanted setup, step by step, creating only what is missing.

Every step first reads what exists and reuses it; a second run therefore creates nothing. A dry
run reads the same way and reports what it would do. Nothing is ever undone: when a step fails,
the events so far say exactly what exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from triage_tui.nylas.admin import AdminGateway
from triage_tui.nylas.admin_types import PRODUCT_TRIGGERS, AgentGrant, Policy, Rule, RuleList, Workspace
from triage_tui.nylas.errors import GatewayError
from triage_tui.provision.ruleset import Ruleset

RULE_NOTE = "Managed by triage-tui init: edit the ruleset and run init again."
# (list suffix, list type, ruleset key)
LISTS = (("blocked domains", "domain", "block_domains"), ("blocked addresses", "address", "block_addresses"),
         ("spam domains", "domain", "spam_domains"))
# (rule suffix, condition field, list suffix, actions, priority)
RULES = (("block listed domains", "from.domain", "blocked domains", [{"type": "block"}], 1),
         ("block listed addresses", "from.address", "blocked addresses", [{"type": "block"}], 1),
         ("mark listed domains as spam", "from.domain", "spam domains", [{"type": "mark_as_spam"}], 5))
DRY = {"created": "would create", "updated": "would update", "moved": "would move", "rotated": "would rotate",
       "reused": "reuse", "skipped": "skip"}


@dataclass(frozen=True)
class Event:
    """One step's outcome: what kind of object, which one, what was done, and its id."""

    kind: str
    label: str
    action: str
    object_id: str = ""
    detail: str = ""

    def line(self) -> str:
        """The event as one aligned line."""
        text = f"  {self.action:<13} {self.kind:<10} {self.label}"
        if self.object_id:
            text += f"  [{self.object_id}]"
        return text + (f"  ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class Wanted:
    """What init was asked for."""

    ruleset: Ruleset
    workspace_name: str = "triage-tui"
    grant_id: str = ""
    email: str = ""
    name: str = ""
    webhook_url: str = ""
    rotate_secret: bool = False


@dataclass
class Outcome:
    """The ids init ends up with (empty where a dry run would create), and a new webhook secret."""

    events: list[Event] = field(default_factory=list)
    grant: AgentGrant | None = None
    workspace_id: str = ""
    policy_id: str = ""
    webhook_id: str = ""
    webhook_secret: str = ""

    @property
    def changed(self) -> bool:
        """True when any step created, updated or moved something (or would)."""
        return any(e.action not in ("reused", "reuse", "skipped", "skip") for e in self.events)


class ProvisionError(Exception):
    """A step failed; `events` says what exists (nothing was undone)."""

    def __init__(self, message: str, events: list[Event]) -> None:
        super().__init__(message)
        self.events = events


def _count(n: int) -> str:
    return "empty" if n == 0 else ("1 entry" if n == 1 else f"{n} entries")


def _clean_actions(actions: list[dict]) -> list[dict]:
    return [{k: v for k, v in a.items() if v is not None} for a in actions]


class Provisioner:
    """Walks the steps against one application through the admin gateway."""

    def __init__(self, gateway: AdminGateway, wanted: Wanted, *, dry_run: bool = False,
                 report: Callable[[Event], None] | None = None) -> None:
        self.gw = gateway
        self.wanted = wanted
        self.dry_run = dry_run
        self.report = report or (lambda event: None)
        self.outcome = Outcome()
        self._step = "reading the application"

    def _emit(self, kind: str, label: str, action: str, object_id: str = "", detail: str = "") -> None:
        event = Event(kind, label, DRY.get(action, action) if self.dry_run else action, object_id, detail)
        self.outcome.events.append(event)
        self.report(event)

    def _name(self, suffix: str, sep: str = " ") -> str:
        return f"{self.wanted.workspace_name}{sep}{suffix}"

    def run(self) -> Outcome:
        """Every step in order; ProvisionError names the failed step and keeps what was done."""
        try:
            existing = self._find_account()
            lists = {suffix: self._list(suffix, kind, key) for suffix, kind, key in LISTS}
            rules = [self._rule(suffix, fld, lists[list_suffix], actions, priority)
                     for suffix, fld, list_suffix, actions, priority in RULES]
            policy = self._policy()
            workspace = self._workspace(policy, rules)
            self._account(existing, workspace)
            self._webhook()
        except GatewayError as exc:
            raise ProvisionError(f"{self._step}: {exc}", list(self.outcome.events)) from exc
        return self.outcome

    # -- the Agent Account ---------------------------------------------------------------

    def _find_account(self) -> AgentGrant | None:
        self._step = "listing the application's grants"
        grants = self.gw.list_grants(agent_accounts_only=False)
        wanted = self.wanted
        if wanted.grant_id:
            grant = next((g for g in grants if g.id == wanted.grant_id), None)
            if grant is None:
                raise ProvisionError(f"grant {wanted.grant_id} is not a grant of this application", [])
        else:
            grant = next((g for g in grants if g.email.lower() == wanted.email.lower()), None)
        if grant is not None and not grant.is_agent_account:
            raise ProvisionError(f"{grant.email or grant.id} is a {grant.provider or 'non-Nylas'} grant, "
                                 "not an Agent Account", [])
        return grant

    def _account(self, grant: AgentGrant | None, workspace: Workspace) -> None:
        if grant is None:
            self._step = f"creating the Agent Account {self.wanted.email}"
            if self.dry_run:
                grant = AgentGrant(email=self.wanted.email, name=self.wanted.name, provider="nylas")
            else:
                grant = self.gw.create_agent_account(self.wanted.email, self.wanted.name, workspace.id)
            self._emit("account", grant.email, "created", grant.id, f"in workspace {workspace.name}")
            if not self.dry_run and grant.workspace_id and grant.workspace_id != workspace.id:
                self.gw.assign_grant(workspace.id, grant.id)
        elif grant.workspace_id != workspace.id:
            self._step = f"moving {grant.email} into the workspace {workspace.name}"
            if not self.dry_run:
                self.gw.assign_grant(workspace.id, grant.id)
            self._emit("account", grant.email, "moved", grant.id, f"into workspace {workspace.name}")
        else:
            self._emit("account", grant.email, "reused", grant.id, f"in workspace {workspace.name}")
        self.outcome.grant = grant

    # -- guardrails ----------------------------------------------------------------------

    def _list(self, suffix: str, kind: str, key: str) -> RuleList:
        name = self._name(suffix)
        wanted = list(getattr(self.wanted.ruleset.inbound, key))
        self._step = f"reading the list {name}"
        found = next((item for item in self.gw.list_lists() if item.name == name), None)
        if found is not None and found.type != kind:
            raise ProvisionError(f"the list {name} exists with type {found.type}, not {kind} (a list's "
                                 "type cannot change): rename or delete it", list(self.outcome.events))
        if found is None:
            self._step = f"creating the list {name}"
            found = RuleList(name=name, type=kind) if self.dry_run else self.gw.create_list(
                name, kind, RULE_NOTE)
            if wanted and not self.dry_run:
                self.gw.change_items(found.id, add=wanted)
            self._emit("list", name, "created", found.id, _count(len(wanted)))
            return found
        have = self.gw.list_items(found.id)
        add = [v for v in wanted if v not in have]
        remove = [v for v in have if v not in wanted]
        if add or remove:
            self._step = f"updating the list {name}"
            if not self.dry_run:
                self.gw.change_items(found.id, add=add, remove=remove)
            self._emit("list", name, "updated", found.id, f"+{len(add)} -{len(remove)}")
        else:
            self._emit("list", name, "reused", found.id, _count(len(have)))
        return found

    def _rule(self, suffix: str, fld: str, source: RuleList, actions: list[dict], priority: int) -> Rule:
        name = self._name(suffix, ": ")
        body = {"description": RULE_NOTE, "priority": priority, "enabled": True, "trigger": "inbound",
                "match": {"operator": "all",
                          "conditions": [{"field": fld, "operator": "in_list", "value": [source.id]}]},
                "actions": actions}
        self._step = f"reading the rule {name}"
        found = next((r for r in self.gw.list_rules() if r.name == name), None)
        if found is None:
            self._step = f"creating the rule {name}"
            found = Rule(name=name) if self.dry_run else self.gw.create_rule({"name": name, **body})
            self._emit("rule", name, "created", found.id)
            return found
        same = (found.match.get("operator", "all") == "all"
                and found.match.get("conditions") == body["match"]["conditions"]
                and _clean_actions(found.actions) == actions and found.enabled
                and found.trigger == "inbound" and found.priority == priority)
        if same:
            self._emit("rule", name, "reused", found.id)
            return found
        self._step = f"updating the rule {name}"
        if not self.dry_run:
            found = self.gw.update_rule(found.id, body)
        self._emit("rule", name, "updated", found.id, "brought in line with the ruleset")
        return found

    def _policy(self) -> Policy:
        name = self.wanted.workspace_name
        settings = self.wanted.ruleset.policy
        body = {"limits": dict(settings.limits), "spam_detection": dict(settings.spam_detection)}
        self._step = f"reading the policy {name}"
        found = next((p for p in self.gw.list_policies() if p.name == name), None)
        if found is None:
            self._step = f"creating the policy {name}"
            found = Policy(name=name) if self.dry_run else self.gw.create_policy({"name": name, **body})
            self._emit("policy", name, "created", found.id, self._policy_detail())
        elif all(found.limits.get(k) == v for k, v in settings.limits.items()) and all(
                found.spam_detection.get(k) == v for k, v in settings.spam_detection.items()):
            self._emit("policy", name, "reused", found.id, self._policy_detail())
        else:
            self._step = f"updating the policy {name}"
            if not self.dry_run:
                found = self.gw.update_policy(found.id, body)
            self._emit("policy", name, "updated", found.id, self._policy_detail())
        self.outcome.policy_id = found.id
        return found

    def _policy_detail(self) -> str:
        settings = self.wanted.ruleset.policy
        return f"{len(settings.limits)} limits, spam detection {'on' if settings.spam_detection else 'default'}"

    def _workspace(self, policy: Policy, rules: list[Rule]) -> Workspace:
        name = self.wanted.workspace_name
        rule_ids = [r.id for r in rules if r.id]
        self._step = f"reading the workspace {name}"
        found = next((w for w in self.gw.list_workspaces() if w.name == name), None)
        if found is None:
            self._step = f"creating the workspace {name}"
            found = Workspace(name=name) if self.dry_run else self.gw.create_workspace(
                name, policy_id=policy.id, rule_ids=rule_ids)
            self._emit("workspace", name, "created", found.id, f"policy and {len(rules)} rules attached")
        else:
            changes: dict = {}
            if found.policy_id != policy.id or not policy.id:
                changes["policy_id"] = policy.id
            missing = [r for r in rule_ids if r not in found.rule_ids]
            if missing or len(rule_ids) < len(rules):
                changes["rule_ids"] = found.rule_ids + missing
            if changes:
                self._step = f"attaching the policy and rules to the workspace {name}"
                if not self.dry_run:
                    found = self.gw.update_workspace(found.id, changes)
                what = " and ".join(k.replace("_ids", "s").replace("_id", "") for k in changes)
                self._emit("workspace", name, "updated", found.id, f"{what} attached")
            else:
                self._emit("workspace", name, "reused", found.id, f"policy and {len(rules)} rules attached")
        self.outcome.workspace_id = found.id
        return found

    # -- the webhook ---------------------------------------------------------------------

    def _webhook(self) -> None:
        url = self.wanted.webhook_url
        if not url:
            self._emit("webhook", "none", "skipped", detail="no public URL: the worker polls")
            return
        self._step = "listing the webhooks"
        found = next((w for w in self.gw.list_webhooks() if w.webhook_url == url), None)
        if found is None:
            self._step = f"creating the webhook for {url} (Nylas checks its challenge first)"
            if self.dry_run:
                self._emit("webhook", url, "created", detail=f"{len(PRODUCT_TRIGGERS)} triggers")
                return
            found = self.gw.create_webhook(url, description="triage-tui")
            self.outcome.webhook_secret = found.webhook_secret
            self._emit("webhook", url, "created", found.id, f"{len(found.trigger_types)} triggers")
        else:
            changes: dict = {}
            missing, status = found.missing(), found.status
            if missing:
                changes["trigger_types"] = found.trigger_types + missing
            if status in ("pause", "failed"):
                changes["status"] = "active"
            if changes:
                self._step = f"updating the webhook for {url}"
                if not self.dry_run:
                    found = self.gw.update_webhook(found.id, changes)
                detail = "; ".join(filter(None, [
                    f"subscribed to {', '.join(missing)}" if missing else "",
                    f"reactivated (was {status})" if "status" in changes else ""]))
                self._emit("webhook", url, "updated", found.id, detail)
            else:
                self._emit("webhook", url, "reused", found.id, f"active, {len(found.trigger_types)} triggers")
            if self.wanted.rotate_secret:
                self._step = f"rotating the secret of the webhook for {url}"
                if not self.dry_run:
                    self.outcome.webhook_secret = self.gw.rotate_webhook_secret(found.id).webhook_secret
                self._emit("webhook", url, "rotated", found.id, "the old secret stops working now")
        self.outcome.webhook_id = found.id
