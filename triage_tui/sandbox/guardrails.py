"""Agent Account guardrails: workspaces, policies, rules, lists, and rule evaluation of inbound mail."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from triage_tui.sandbox.validation import GuardrailError, validate_policy, validate_rule

APPLICATION_ID = "sandbox-application"
LIST_TYPES = {"domain", "tld", "address"}
__all__ = ["APPLICATION_ID", "Evaluation", "GuardrailError", "Guardrails"]


def _now() -> int:
    return int(time.time())


@dataclass
class Evaluation:
    """What the rules decided for one inbound mail."""

    blocked: bool = False
    spam: bool = False
    read: bool = False
    starred: bool = False
    archived: bool = False
    trashed: bool = False
    folder_names: list[str] = field(default_factory=list)
    matched_rule_ids: list[str] = field(default_factory=list)


class Guardrails:
    """Workspaces, policies, rules and lists of the sandbox application (caller holds the lock)."""

    def __init__(self) -> None:
        self.workspaces: dict[str, dict] = {}
        self.policies: dict[str, dict] = {}
        self.rules: dict[str, dict] = {}
        self.lists: dict[str, dict] = {}
        self.list_items: dict[str, list[dict]] = {}
        self.evaluations: dict[str, list[dict]] = {}  # grant id -> newest last

    def default_workspace(self, domain: str) -> dict:
        """The workspace of a domain, created with a default policy on first use."""
        for ws in self.workspaces.values():
            if ws["domain"] == domain:
                return ws
        now = _now()
        suffix = f"-{len(self.workspaces) + 1}" if self.workspaces else ""
        policy = self.create_policy({"name": f"Default policy for {domain}"})
        # Stable ids so config.example.toml (ws-sandbox / pol-sandbox) works as is.
        self.policies[f"pol-sandbox{suffix}"] = self.policies.pop(policy["id"])
        policy["id"] = f"pol-sandbox{suffix}"
        ws = {
            "workspace_id": f"ws-sandbox{suffix}", "application_id": APPLICATION_ID,
            "name": f"{domain} workspace", "domain": domain, "auto_group": True,
            "default": not self.workspaces, "policy_id": policy["id"], "rule_ids": [],
            "created_at": now, "updated_at": now,
        }
        self.workspaces[ws["workspace_id"]] = ws
        return ws

    def create_workspace(self, body: dict) -> dict:
        """A new workspace from a POST body."""
        if not isinstance(body, dict) or not body.get("name"):
            raise GuardrailError("name is required")
        now = _now()
        ws = {
            "workspace_id": str(uuid.uuid4()), "application_id": APPLICATION_ID,
            "name": str(body["name"]), "domain": str(body.get("domain", "")),
            "auto_group": bool(body.get("auto_group", False)), "default": False,
            "policy_id": body.get("policy_id"), "rule_ids": list(body.get("rule_ids") or []),
            "created_at": now, "updated_at": now,
        }
        self._check_refs(ws)
        self.workspaces[ws["workspace_id"]] = ws
        return ws

    def update_workspace(self, ws_id: str, body: dict) -> dict:
        """PATCH a workspace (domain is immutable)."""
        ws = self.workspaces[ws_id]
        if not isinstance(body, dict):
            raise GuardrailError("request body must be a JSON object")
        if "domain" in body and body["domain"] != ws["domain"]:
            raise GuardrailError("domain is immutable")
        changed = {k: body[k] for k in ("name", "auto_group", "policy_id", "rule_ids") if k in body}
        self._check_refs({**ws, **changed})
        ws.update(changed, updated_at=_now())
        return ws

    def _check_refs(self, ws: dict) -> None:
        if ws.get("policy_id") and ws["policy_id"] not in self.policies:
            raise GuardrailError(f"unknown policy_id: {ws['policy_id']}")
        for rid in ws.get("rule_ids") or []:
            if rid not in self.rules:
                raise GuardrailError(f"unknown rule id: {rid}")

    def create_policy(self, body: dict) -> dict:
        """A new policy from a POST body."""
        if not isinstance(body, dict) or not body.get("name"):
            raise GuardrailError("name is required")
        validate_policy(body)
        now = _now()
        policy = {
            "id": str(uuid.uuid4()), "name": str(body["name"]), "application_id": APPLICATION_ID,
            "organization_id": APPLICATION_ID, "options": body.get("options") or {},
            "limits": body.get("limits") or {}, "rules": [],
            "spam_detection": body.get("spam_detection") or {}, "created_at": now, "updated_at": now,
        }
        self._set_policy_rules(policy, body.get("rules") or [])
        self.policies[policy["id"]] = policy
        return policy

    def update_policy(self, policy_id: str, body: dict) -> dict:
        """PUT a policy: given fields replace, others stay."""
        policy = self.policies[policy_id]
        if not isinstance(body, dict):
            raise GuardrailError("request body must be a JSON object")
        validate_policy(body)
        if "rules" in body:
            self._set_policy_rules(policy, body["rules"])
        for key in ("name", "options", "limits", "spam_detection"):
            if key in body:
                policy[key] = body[key]
        policy["updated_at"] = _now()
        return policy

    def _set_policy_rules(self, policy: dict, rules) -> None:
        if not isinstance(rules, list):
            raise GuardrailError("rules must be a list of rule ids")
        for rid in rules:
            if rid not in self.rules:
                raise GuardrailError(f"unknown rule id: {rid}")
        policy["rules"] = list(rules)

    def create_rule(self, body: dict) -> dict:
        """A new rule from a POST body."""
        clean = validate_rule(body)
        now = _now()
        rule = {"id": str(uuid.uuid4()), "description": "", "priority": 10, "enabled": True,
                "trigger": "inbound", "application_id": APPLICATION_ID,
                "organization_id": APPLICATION_ID, "created_at": now, "updated_at": now, **clean}
        self.rules[rule["id"]] = rule
        return rule

    def update_rule(self, rule_id: str, body: dict) -> dict:
        """PUT a rule: given fields replace, others stay."""
        rule = self.rules[rule_id]
        rule.update(validate_rule(body, partial=True), updated_at=_now())
        return rule

    def delete_rule(self, rule_id: str) -> None:
        """Delete a rule and detach it everywhere."""
        del self.rules[rule_id]
        for policy in self.policies.values():
            policy["rules"] = [r for r in policy["rules"] if r != rule_id]
        for ws in self.workspaces.values():
            ws["rule_ids"] = [r for r in ws["rule_ids"] or [] if r != rule_id]

    def create_list(self, body: dict) -> dict:
        """A new list (type domain, tld or address)."""
        if not isinstance(body, dict) or not body.get("name"):
            raise GuardrailError("name is required")
        if body.get("type") not in LIST_TYPES:
            raise GuardrailError(f"type must be one of {sorted(LIST_TYPES)}")
        now = _now()
        lst = {"id": str(uuid.uuid4()), "name": str(body["name"]), "type": body["type"],
               "description": str(body.get("description", "")), "items_count": 0,
               "application_id": APPLICATION_ID, "organization_id": APPLICATION_ID,
               "created_at": now, "updated_at": now}
        self.lists[lst["id"]] = lst
        self.list_items[lst["id"]] = []
        return lst

    def add_items(self, list_id: str, items) -> dict:
        """Add values (normalised to lowercase) to a list."""
        if not isinstance(items, list) or len(items) > 1000:
            raise GuardrailError("items must be a list of at most 1000 values")
        existing = {i["value"] for i in self.list_items[list_id]}
        for value in items:
            value = str(value).strip().lower()
            if not value or len(value) > 500:
                raise GuardrailError("each item must be 1 to 500 characters")
            if value not in existing:
                existing.add(value)
                self.list_items[list_id].append(
                    {"id": str(uuid.uuid4()), "list_id": list_id, "value": value, "created_at": _now()})
        self.lists[list_id]["items_count"] = len(self.list_items[list_id])
        return self.lists[list_id]

    def remove_items(self, list_id: str, items) -> dict:
        """Remove values from a list."""
        drop = {str(v).strip().lower() for v in items or []}
        self.list_items[list_id] = [i for i in self.list_items[list_id] if i["value"] not in drop]
        self.lists[list_id]["items_count"] = len(self.list_items[list_id])
        return self.lists[list_id]

    def rules_for(self, workspace_id: str, trigger: str = "inbound") -> list[dict]:
        """Enabled rules of a trigger reaching a workspace (its own and its policy's), by priority."""
        ws = self.workspaces.get(workspace_id) or {}
        ids = list(ws.get("rule_ids") or [])
        policy = self.policies.get(ws.get("policy_id") or "")
        if policy:
            ids += [r for r in policy["rules"] if r not in ids]
        rules = [self.rules[r] for r in ids if r in self.rules]
        rules = [r for r in rules if r.get("enabled", True) and r.get("trigger") == trigger]
        return sorted(rules, key=lambda r: (r.get("priority", 10), r["created_at"]))

    def _condition_holds(self, cond: dict, values: dict[str, str]) -> bool:
        actual = values.get(cond["field"], "")
        wanted = cond.get("value")
        op = cond["operator"]
        if op == "in_list":
            pool: set[str] = set()
            for ref in wanted if isinstance(wanted, list) else [wanted]:
                ref = str(ref)
                if ref in self.list_items:
                    pool.update(i["value"] for i in self.list_items[ref])
                else:
                    pool.add(ref.lower())
            return actual in pool
        wanted = str(wanted or "").lower()
        if op == "is":
            return actual == wanted
        if op == "is_not":
            return actual != wanted
        return wanted in actual

    def evaluate(self, workspace_id: str, sender: str) -> tuple[Evaluation, dict]:
        """Apply the workspace's inbound rules to a sender address; returns the verdict and input."""
        address = sender.strip().lower()
        domain = address.rpartition("@")[2]
        values = {"from.address": address, "from.domain": domain,
                  "from.tld": domain.rpartition(".")[2]}
        verdict = Evaluation()
        for rule in self.rules_for(workspace_id):
            conditions = rule["match"]["conditions"]
            results = [self._condition_holds(c, values) for c in conditions]
            hit = all(results) if rule["match"].get("operator", "all") == "all" else any(results)
            if not hit:
                continue
            verdict.matched_rule_ids.append(rule["id"])
            for action in rule["actions"]:
                kind = action["type"]
                if kind == "block":
                    verdict.blocked = True
                elif kind == "mark_as_spam":
                    verdict.spam = True
                elif kind == "assign_to_folder":
                    verdict.folder_names.append(str(action["value"]))
                elif kind == "mark_as_read":
                    verdict.read = True
                elif kind == "mark_as_starred":
                    verdict.starred = True
                elif kind == "archive":
                    verdict.archived = True
                elif kind == "trash":
                    verdict.trashed = True
            if verdict.blocked:
                break
        evaluation_input = {"from_address": address, "from_domain": domain,
                            "from_tld": values["from.tld"]}
        return verdict, evaluation_input

    def blocks_outbound(self, workspace_id: str, recipients: list[str], kind: str) -> list[str]:
        """Ids of outbound rules whose block action stops a send to these recipients."""
        blocking: list[str] = []
        for recipient in recipients:
            address = recipient.strip().lower()
            domain = address.rpartition("@")[2]
            values = {"recipient.address": address, "recipient.domain": domain,
                      "recipient.tld": domain.rpartition(".")[2], "outbound.type": kind}
            for rule in self.rules_for(workspace_id, "outbound"):
                results = [self._condition_holds(c, values) for c in rule["match"]["conditions"]]
                hit = all(results) if rule["match"].get("operator", "all") == "all" else any(results)
                if hit and any(a["type"] == "block" for a in rule["actions"]):
                    if rule["id"] not in blocking:
                        blocking.append(rule["id"])
        return blocking

    def record(self, grant_id: str, message_id: str, workspace_id: str, verdict: Evaluation,
               evaluation_input: dict, folder_ids: list[str]) -> dict:
        """Keep the audit record of one evaluation."""
        now = _now()
        ws = self.workspaces.get(workspace_id) or {}
        entry = {
            "id": str(uuid.uuid4()), "grant_id": grant_id, "message_id": message_id,
            "evaluated_at": now, "evaluation_stage": "inbound",
            "evaluation_input": evaluation_input,
            "applied_actions": {
                "blocked": verdict.blocked, "marked_as_spam": verdict.spam,
                "marked_as_read": verdict.read, "marked_starred": verdict.starred,
                "archived": verdict.archived, "trashed": verdict.trashed,
                "folder_ids": folder_ids,
            },
            "matched_rule_ids": list(verdict.matched_rule_ids),
            "workspace_id": workspace_id, "policy_id": ws.get("policy_id"),
            "application_id": APPLICATION_ID, "organization_id": APPLICATION_ID,
            "created_at": now, "updated_at": now,
        }
        self.evaluations.setdefault(grant_id, []).append(entry)
        return entry
