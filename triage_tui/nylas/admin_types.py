"""Typed application-level objects: Agent Account grants, workspaces, policies, rules, lists, webhooks.

Each is read field by field from the API's JSON, tolerating absent fields, so an API that adds or
omits a field never breaks init or doctor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

AGENT_PROVIDER = "nylas"
# What the product subscribes to: inbound mail, its changes, and what became of our sends.
PRODUCT_TRIGGERS = ("message.created", "message.updated", "message.delivered", "message.bounced",
                    "message.complaint", "message.rejected", "message.send_failed")


class _Api(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_api(cls, data: Any) -> "_Api":
        """The object from an API `data` dict; absent or null fields take their defaults."""
        raw = data if isinstance(data, dict) else {}
        return cls.model_validate({k: v for k, v in raw.items() if v is not None})


class AgentGrant(_Api):
    """A grant of the application; Agent Accounts have provider "nylas"."""

    id: str = ""
    email: str = ""
    name: str = ""
    provider: str = ""
    grant_status: str = ""
    workspace_id: str = ""
    blocked: bool = False
    created_at: int = 0

    @property
    def is_agent_account(self) -> bool:
        """True for a Nylas-hosted Agent Account."""
        return self.provider == AGENT_PROVIDER


class Workspace(_Api):
    """A workspace: one policy and many rules govern the accounts in it."""

    id: str = Field("", alias="workspace_id")
    name: str = ""
    domain: str = ""
    auto_group: bool = False
    default: bool = False
    policy_id: str = ""
    rule_ids: list[str] = []


class Policy(_Api):
    """Limits and spam detection for the accounts of the workspaces it is attached to."""

    id: str = ""
    name: str = ""
    limits: dict[str, Any] = {}
    spam_detection: dict[str, Any] = {}
    options: dict[str, Any] = {}
    rules: list[str] = []


class Rule(_Api):
    """An inbound or outbound rule: conditions on the sender (or recipient) and actions."""

    id: str = ""
    name: str = ""
    description: str = ""
    priority: int = 10
    enabled: bool = True
    trigger: str = "inbound"
    match: dict[str, Any] = {}
    actions: list[dict[str, Any]] = []


class RuleList(_Api):
    """A list of domains, TLDs or addresses that `in_list` conditions refer to."""

    id: str = ""
    name: str = ""
    type: str = ""
    description: str = ""
    items_count: int = 0


class Webhook(_Api):
    """A webhook destination; `webhook_secret` is only ever filled on create and rotate."""

    id: str = ""
    description: str = ""
    webhook_url: str = ""
    status: str = ""
    trigger_types: list[str] = []
    webhook_secret: str = ""

    def missing(self, triggers=PRODUCT_TRIGGERS) -> list[str]:
        """The wanted triggers this webhook is not subscribed to."""
        return [t for t in triggers if t not in self.trigger_types]


class ApiProbe(BaseModel):
    """What one cheap authenticated call told us: the key works, and the API's clock."""

    model_config = ConfigDict(frozen=True)

    server_date: datetime | None = None
    grants_seen: int = 0
