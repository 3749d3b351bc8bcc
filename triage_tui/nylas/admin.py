"""The application-level calls init, doctor and accounts need: grants, Agent Accounts, workspaces,
policies, rules, lists and webhooks, over the SDK's HTTP layer with the gateway's retries and errors.

The SDK's own models drop a grant's name and workspace and refuse to decode a webhook subscribed to
the Agent Account triggers (its enum lacks them), so the JSON is read field by field instead.
Writes that would create something twice if repeated are retried only on 429 (not processed).
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from triage_tui.nylas.admin_types import (
    PRODUCT_TRIGGERS,
    AgentGrant,
    ApiProbe,
    Policy,
    Rule,
    RuleList,
    Webhook,
    Workspace,
)
from triage_tui.nylas.errors import BadRequest, BadResponse, GatewayError, RateLimited
from triage_tui.nylas.gateway import Gateway
from triage_tui.nylas.retry import RetryPolicy

GRANT_PAGE = 200
MAX_PAGES = 50


class OnlyWhenRefused(RetryPolicy):
    """Retry a create or delete only when the API said it did not process it (429)."""

    def delay(self, error: GatewayError, retry_number: int) -> float | None:
        """Seconds before the next attempt, or None to give up."""
        if not isinstance(error, RateLimited):
            return None
        return super().delay(error, retry_number)


def _id(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{what} is empty")
    return quote(value.strip(), safe="@:")


class AdminGateway(Gateway):
    """The gateway plus the application-level resources of an Agent Account deployment."""

    # -- plumbing ------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, body: dict | None = None, params: dict | None = None,
                 write_once: bool = False) -> tuple[Any, dict]:
        """(data, headers) of one call; `write_once` retries only a 429."""
        policy = OnlyWhenRefused(max_retries=self.policy.max_retries, max_backoff_s=self.policy.max_backoff_s,
                                 rng=self.policy.rng) if write_once else None
        payload, headers = self._call(lambda: self.client.http_client._execute(
            method, path, query_params=params, request_body=body), policy=policy)
        if not isinstance(payload, dict):
            raise BadResponse(f"{method} {path}: the answer is not a JSON object", retryable=False)
        return payload, dict(headers or {})

    def _data(self, method: str, path: str, **kwargs) -> dict:
        payload, _headers = self._request(method, path, **kwargs)
        data = payload.get("data")
        if not isinstance(data, dict):
            raise BadResponse(f"{method} {path}: the answer has no data object", retryable=False)
        return data

    def _all(self, path: str) -> list[dict]:
        """Every item of a cursor-paged list."""
        items: list[dict] = []
        params: dict = {}
        for _page in range(MAX_PAGES):
            payload, _headers = self._request("GET", path, params=dict(params) or None)
            data = payload.get("data")
            if not isinstance(data, list):
                raise BadResponse(f"GET {path}: the answer has no data array", retryable=False)
            items += [item for item in data if isinstance(item, dict)]
            cursor = payload.get("next_cursor")
            if not cursor:
                break
            params["page_token"] = cursor
        return items

    # -- the key and the clock -----------------------------------------------------------

    def probe(self) -> ApiProbe:
        """One cheap authenticated call: raises AuthError for a refused key; returns the API's Date."""
        payload, headers = self._request("GET", "/v3/grants", params={"limit": 1})
        date = {k.lower(): v for k, v in headers.items()}.get("date")
        try:
            server_date = parsedate_to_datetime(date) if date else None
        except (TypeError, ValueError):
            server_date = None
        data = payload.get("data")
        return ApiProbe(server_date=server_date, grants_seen=len(data) if isinstance(data, list) else 0)

    # -- grants and Agent Accounts -------------------------------------------------------

    def list_grants(self, *, agent_accounts_only: bool = True) -> list[AgentGrant]:
        """The application's grants (offset-paged, unfiltered on the server: the filtered list lags)."""
        grants: list[AgentGrant] = []
        for page in range(MAX_PAGES):
            payload, _headers = self._request("GET", "/v3/grants",
                                              params={"limit": GRANT_PAGE, "offset": page * GRANT_PAGE})
            data = payload.get("data")
            if not isinstance(data, list):
                raise BadResponse("GET /v3/grants: the answer has no data array", retryable=False)
            grants += [AgentGrant.from_api(item) for item in data]
            if len(data) < GRANT_PAGE:
                break
        return [g for g in grants if g.id and (g.is_agent_account or not agent_accounts_only)]

    def find_grant(self, grant_id: str) -> AgentGrant:
        """One grant, NotFound when it does not exist."""
        return AgentGrant.from_api(self._data("GET", f"/v3/grants/{_id(grant_id, 'grant id')}"))

    def create_agent_account(self, email: str, name: str = "", workspace_id: str = "") -> AgentGrant:
        """POST /v3/connect/custom with provider "nylas"."""
        body: dict[str, Any] = {"provider": "nylas", "settings": {"email": email}}
        if name:
            body["name"] = name
        if workspace_id:
            body["workspace_id"] = workspace_id
        return AgentGrant.from_api(self._data("POST", "/v3/connect/custom", body=body, write_once=True))

    def delete_grant(self, grant_id: str) -> None:
        """Delete an account and its mail, for good."""
        self._request("DELETE", f"/v3/grants/{_id(grant_id, 'grant id')}", write_once=True)

    # -- workspaces ----------------------------------------------------------------------

    def list_workspaces(self) -> list[Workspace]:
        """Every workspace of the application."""
        return [Workspace.from_api(w) for w in self._all("/v3/workspaces")]

    def find_workspace(self, workspace_id: str) -> Workspace:
        """One workspace, NotFound when it does not exist."""
        return Workspace.from_api(self._data("GET", f"/v3/workspaces/{_id(workspace_id, 'workspace id')}"))

    def create_workspace(self, name: str, *, policy_id: str = "", rule_ids: list[str] = ()) -> Workspace:
        """A workspace without a domain (accounts are assigned to it by hand)."""
        body: dict[str, Any] = {"name": name, "auto_group": False}
        if policy_id:
            body["policy_id"] = policy_id
        if rule_ids:
            body["rule_ids"] = list(rule_ids)
        return Workspace.from_api(self._data("POST", "/v3/workspaces", body=body, write_once=True))

    def update_workspace(self, workspace_id: str, changes: dict) -> Workspace:
        """PATCH a workspace (policy_id, rule_ids, name)."""
        path = f"/v3/workspaces/{_id(workspace_id, 'workspace id')}"
        return Workspace.from_api(self._data("PATCH", path, body=changes))

    def assign_grant(self, workspace_id: str, grant_id: str) -> None:
        """Move one account into a workspace."""
        path = f"/v3/workspaces/{_id(workspace_id, 'workspace id')}/manual-assign"
        self._request("POST", path, body={"assign_grants": [grant_id]})

    # -- policies, rules and lists -------------------------------------------------------

    def list_policies(self) -> list[Policy]:
        """Every policy of the application."""
        return [Policy.from_api(p) for p in self._all("/v3/policies")]

    def find_policy(self, policy_id: str) -> Policy:
        """One policy, NotFound when it does not exist."""
        return Policy.from_api(self._data("GET", f"/v3/policies/{_id(policy_id, 'policy id')}"))

    def create_policy(self, body: dict) -> Policy:
        """A new policy (name, limits, spam_detection)."""
        return Policy.from_api(self._data("POST", "/v3/policies", body=body, write_once=True))

    def update_policy(self, policy_id: str, body: dict) -> Policy:
        """PUT the given fields of a policy."""
        return Policy.from_api(self._data("PUT", f"/v3/policies/{_id(policy_id, 'policy id')}", body=body))

    def list_rules(self) -> list[Rule]:
        """Every rule of the application."""
        return [Rule.from_api(r) for r in self._all("/v3/rules")]

    def create_rule(self, body: dict) -> Rule:
        """A new rule."""
        return Rule.from_api(self._data("POST", "/v3/rules", body=body, write_once=True))

    def update_rule(self, rule_id: str, body: dict) -> Rule:
        """PUT the given fields of a rule."""
        return Rule.from_api(self._data("PUT", f"/v3/rules/{_id(rule_id, 'rule id')}", body=body))

    def list_lists(self) -> list[RuleList]:
        """Every list of the application."""
        return [RuleList.from_api(item) for item in self._all("/v3/lists")]

    def create_list(self, name: str, kind: str, description: str = "") -> RuleList:
        """A new list of domains, TLDs or addresses."""
        body = {"name": name, "type": kind, "description": description}
        return RuleList.from_api(self._data("POST", "/v3/lists", body=body, write_once=True))

    def list_items(self, list_id: str) -> list[str]:
        """The values in a list."""
        items = self._all(f"/v3/lists/{_id(list_id, 'list id')}/items")
        return [str(item["value"]) for item in items if item.get("value")]

    def change_items(self, list_id: str, *, add: list[str] = (), remove: list[str] = ()) -> None:
        """Add and remove values, at most 1000 per request as the API allows."""
        path = f"/v3/lists/{_id(list_id, 'list id')}/items"
        for method, values in (("POST", list(add)), ("DELETE", list(remove))):
            for start in range(0, len(values), 1000):
                self._request(method, path, body={"items": values[start:start + 1000]})

    # -- webhooks ------------------------------------------------------------------------

    def list_webhooks(self) -> list[Webhook]:
        """Every webhook destination of the application."""
        return [Webhook.from_api(w) for w in self._all("/v3/webhooks")]

    def find_webhook(self, webhook_id: str) -> Webhook:
        """One webhook, NotFound when it does not exist."""
        return Webhook.from_api(self._data("GET", f"/v3/webhooks/{_id(webhook_id, 'webhook id')}"))

    def create_webhook(self, url: str, *, triggers=PRODUCT_TRIGGERS, description: str = "") -> Webhook:
        """A new destination; Nylas checks the URL's challenge first. The secret is in the result."""
        body = {"trigger_types": list(triggers), "webhook_url": url, "description": description}
        return Webhook.from_api(self._data("POST", "/v3/webhooks", body=body, write_once=True))

    def update_webhook(self, webhook_id: str, changes: dict) -> Webhook:
        """PUT the given fields (trigger_types, status, webhook_url, description)."""
        path = f"/v3/webhooks/{_id(webhook_id, 'webhook id')}"
        return Webhook.from_api(self._data("PUT", path, body=changes))

    def rotate_webhook_secret(self, webhook_id: str) -> Webhook:
        """A new secret (the old one stops working at once); the result carries it."""
        path = f"/v3/webhooks/rotate-secret/{_id(webhook_id, 'webhook id')}"
        return Webhook.from_api(self._data("POST", path, body={}, write_once=True))
