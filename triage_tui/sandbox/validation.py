"""Validation of guardrail bodies: rules and policies, as the API refuses them."""

from __future__ import annotations

FIELDS = {"from.address", "from.domain", "from.tld"}
OUTBOUND_FIELDS = {"recipient.address", "recipient.domain", "recipient.tld", "outbound.type"}
OPERATORS = {"is", "is_not", "contains", "in_list"}
ACTIONS = {"block", "mark_as_spam", "assign_to_folder", "mark_as_read", "mark_as_starred",
           "archive", "trash"}

# Both spellings of the daily counters: the SDK's and the OpenAPI spec's (which one Nylas honours
# is unconfirmed, so the sandbox accepts either).
LIMIT_KEYS = {"limit_attachment_size_limit", "limit_attachment_count_limit", "limit_size_total_mime",
              "limit_storage_total", "limit_count_daily_message_per_grant",
              "limit_count_daily_message_received", "limit_count_daily_email_sent",
              "limit_inbox_retention_period", "limit_spam_retention_period"}
SPAM_KEYS = {"use_list_dnsbl", "use_header_anomaly_detection", "spam_sensitivity"}


class GuardrailError(ValueError):
    """A rule, policy, list or workspace body the API refuses."""


def validate_policy(body: dict) -> None:
    """GuardrailError when limits or spam_detection hold an unknown key or a value out of range."""
    limits = body.get("limits", {})
    if not isinstance(limits, dict):
        raise GuardrailError("limits must be an object")
    for key, value in limits.items():
        if key == "limit_attachment_allowed_types":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise GuardrailError(f"limits.{key} must be a list of MIME types")
        elif key not in LIMIT_KEYS:
            raise GuardrailError(f"limits.{key} is not a policy limit")
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise GuardrailError(f"limits.{key} must be a whole number >= 0")
    spam = body.get("spam_detection", {})
    if not isinstance(spam, dict):
        raise GuardrailError("spam_detection must be an object")
    for key, value in spam.items():
        if key not in SPAM_KEYS:
            raise GuardrailError(f"spam_detection.{key} is not a spam detection setting")
        if key == "spam_sensitivity":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 5:
                raise GuardrailError("spam_detection.spam_sensitivity must be from 0 to 5")
        elif not isinstance(value, bool):
            raise GuardrailError(f"spam_detection.{key} must be true or false")


def validate_rule(body: dict, *, partial: bool = False) -> dict:
    """A clean rule body, or GuardrailError naming the bad field."""
    if not isinstance(body, dict):
        raise GuardrailError("request body must be a JSON object")
    if not partial:
        for required in ("name", "match", "actions"):
            if required not in body:
                raise GuardrailError(f"{required} is required")
    out: dict = {}
    if "name" in body:
        out["name"] = str(body["name"])
    if "description" in body:
        out["description"] = str(body["description"])
    if "priority" in body:
        priority = body["priority"]
        if not isinstance(priority, int) or not 0 <= priority <= 1000:
            raise GuardrailError("priority must be an integer from 0 to 1000")
        out["priority"] = priority
    if "enabled" in body:
        out["enabled"] = bool(body["enabled"])
    if "trigger" in body:
        if body["trigger"] not in ("inbound", "outbound"):
            raise GuardrailError("trigger must be inbound or outbound")
        out["trigger"] = body["trigger"]
    if "match" in body:
        match = body["match"]
        conditions = match.get("conditions") if isinstance(match, dict) else None
        if not isinstance(conditions, list) or not conditions:
            raise GuardrailError("match.conditions must be a non-empty list")
        trigger = body.get("trigger", "inbound")
        allowed = FIELDS | OUTBOUND_FIELDS if trigger == "outbound" else FIELDS
        for cond in conditions:
            if not isinstance(cond, dict) or cond.get("field") not in allowed:
                raise GuardrailError(f"match.conditions.field must be one of {sorted(allowed)}")
            if cond.get("operator") not in OPERATORS:
                raise GuardrailError(f"match.conditions.operator must be one of {sorted(OPERATORS)}")
            if cond["field"] == "outbound.type" and cond["operator"] not in ("is", "is_not"):
                raise GuardrailError("outbound.type only accepts is and is_not")
        op = match.get("operator", "all")
        if op not in ("all", "any"):
            raise GuardrailError("match.operator must be all or any")
        out["match"] = {"operator": op, "conditions": conditions}
    if "actions" in body:
        actions = body["actions"]
        if not isinstance(actions, list) or not actions:
            raise GuardrailError("actions must be a non-empty list")
        for action in actions:
            if not isinstance(action, dict) or action.get("type") not in ACTIONS:
                raise GuardrailError(f"actions.type must be one of {sorted(ACTIONS)}")
            if action["type"] == "assign_to_folder" and not action.get("value"):
                raise GuardrailError("assign_to_folder needs a folder name in value")
        if any(a["type"] == "block" for a in actions) and len(actions) > 1:
            raise GuardrailError("block cannot be combined with other actions")
        out["actions"] = actions
    return out
