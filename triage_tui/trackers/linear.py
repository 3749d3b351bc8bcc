"""Linear (GraphQL): issueCreate with a client-chosen id, commentCreate, state updates, priority from urgency.

Linear has no idempotency key, but the client may choose an issue's (and a comment's) UUID. The id is
made when the write is queued; after an unknown outcome `issue(id:)` / `comment(id:)` says whether it
landed. A rate limit is HTTP 400 with `extensions.code = "RATELIMITED"` (a bare 429 is honoured too).
"""

from __future__ import annotations

import json
import time

import httpx

from triage_tui.domain import TrackerOp, TrackerStatus
from triage_tui.trackers.base import (
    Reconciled,
    TrackerError,
    WriteRequest,
    WriteResult,
    auth_error,
    misconfigured,
    rate_limited,
    rejected,
)
from triage_tui.trackers.http import split_url, DEFAULT_RATE_WAIT_S, HttpTracker, parse_retry_after, secret_from_env
from triage_tui.trackers.render import markdown_comment, markdown_create, title

ISSUE_CREATE = """mutation IssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { id identifier number url } }
}"""
COMMENT_CREATE = """mutation CommentCreate($input: CommentCreateInput!) {
  commentCreate(input: $input) { success comment { id url } }
}"""
ISSUE_UPDATE = """mutation IssueUpdate($id: String!, $input: IssueUpdateInput!) {
  issueUpdate(id: $id, input: $input) { success issue { id state { id type } } }
}"""
ISSUE = "query Issue($id: String!) { issue(id: $id) { id identifier number url } }"
COMMENT = "query Comment($id: String) { comment(id: $id) { id url } }"
STATES = """query States($teamId: ID!, $type: String!) {
  workflowStates(filter: {team: {id: {eq: $teamId}}, type: {eq: $type}}) { nodes { id name type position } }
}"""
AUTH_TYPES = ("authentication error", "forbidden")


def _codes(errors: list) -> list[str]:
    out = []
    for error in errors:
        ext = error.get("extensions") or {} if isinstance(error, dict) else {}
        out += [str(ext.get("code") or ""), str(ext.get("type") or "").lower()]
    return out


def _not_found(errors: list) -> bool:
    return any("not found" in str(e.get("message", "")).lower() for e in errors if isinstance(e, dict))


class LinearTracker(HttpTracker):
    """One Linear team."""

    kind = "linear"

    def __init__(self, name: str, config, *, transport: httpx.BaseTransport | None = None) -> None:
        token = secret_from_env(config.token_env, f"linear tracker {name!r}")
        origin, self.path = split_url(config.api_url)
        super().__init__(name, config, base_url=origin, transport=transport, headers={
            "Authorization": f"Bearer {token}" if config.oauth else token, "Content-Type": "application/json"})
        self._states: dict[str, str] = {}

    def rate_limit_wait(self, response: httpx.Response) -> float | None:
        """HTTP 400 with RATELIMITED (the documented signal), or a bare 429."""
        if response.status_code == 429:
            return parse_retry_after(response.headers.get("retry-after")) or self._reset_wait(response)
        if response.status_code == 400:
            try:
                errors = response.json().get("errors") or []
            except (ValueError, AttributeError):
                return None
            if "RATELIMITED" in _codes(errors) or "ratelimited" in _codes(errors):
                return self._reset_wait(response)
        return None

    def check(self, response: httpx.Response, is_write: bool) -> None:
        """A 400 (or 401) with GraphQL errors is read by `_gql`; everything else as for any tracker."""
        if response.status_code in (400, 401) and self.rate_limit_wait(response) is None:
            try:
                if response.json().get("errors"):
                    return
            except (ValueError, AttributeError):
                pass
        super().check(response, is_write)

    @staticmethod
    def _reset_wait(response: httpx.Response) -> float:
        reset = response.headers.get("x-ratelimit-requests-reset", "")
        if reset.isdigit():  # epoch milliseconds
            return max(1.0, int(reset) / 1000 - time.time())
        return DEFAULT_RATE_WAIT_S

    def _gql(self, query: str, variables: dict, *, write: bool) -> tuple[dict, list]:
        """(data, errors) of one GraphQL call; auth and rate-limit errors raise."""
        response = self.request("POST", self.path, content=json.dumps({"query": query, "variables": variables}),
                                write=write)
        body = self.json(response)
        errors = body.get("errors") or []
        codes = _codes(errors)
        if response.status_code == 401 or any(c in AUTH_TYPES or c in ("AUTHENTICATION_ERROR", "FORBIDDEN") for c in codes):
            raise auth_error(f"linear tracker {self.name!r} refused our credentials: {errors[0].get('message')}")
        if "RATELIMITED" in codes or "ratelimited" in codes:
            wait = self._reset_wait(response)
            self.blocked_until = max(self.blocked_until, time.time() + wait)
            raise rate_limited(f"linear tracker {self.name!r}: rate limited", wait)
        if response.status_code == 400 and not body.get("data"):
            raise rejected(f"linear tracker {self.name!r}: {'; '.join(str(e.get('message')) for e in errors[:2])}", 400)
        return body.get("data") or {}, errors

    def write(self, request: WriteRequest) -> WriteResult:
        """issueCreate / commentCreate with the client-chosen id, or issueUpdate to the mapped state."""
        payload = request.payload
        if request.op is TrackerOp.CREATE:
            data = {"id": request.client_id, "teamId": self.config.team_id, "title": title(payload, 250),
                    "description": markdown_create(payload, request.command_result_id)}
            priority = self.config.priorities.get(payload.get("urgency", ""))
            if priority is not None:
                data["priority"] = priority
            if self.config.label_ids:
                data["labelIds"] = list(self.config.label_ids)
            found, errors = self._gql(ISSUE_CREATE, {"input": data}, write=True)
            issue = ((found.get("issueCreate") or {}).get("issue")) or None
            if issue is None:
                return self._after_error(request, errors)
            return self._issue_result(issue)
        if request.op is TrackerOp.COMMENT:
            data = {"id": request.client_id, "issueId": request.ref.external_id,
                    "body": markdown_comment(payload, request.command_result_id)}
            found, errors = self._gql(COMMENT_CREATE, {"input": data}, write=True)
            comment = (found.get("commentCreate") or {}).get("comment")
            if comment is None:
                return self._after_error(request, errors)
            return WriteResult(remote_id=comment["id"], url=comment.get("url", ""))
        state = self._state_id(payload.get("status") == TrackerStatus.SOLVED.value)
        found, errors = self._gql(ISSUE_UPDATE, {"id": request.ref.external_id, "input": {"stateId": state}}, write=True)
        if not (found.get("issueUpdate") or {}).get("success"):
            raise rejected(f"linear tracker {self.name!r}: issueUpdate failed: {errors[:1]}")
        return WriteResult()

    def _after_error(self, request: WriteRequest, errors: list) -> WriteResult:
        """A refused create may be our own id already taken by an earlier attempt: look it up."""
        found = self.reconcile(request, time.time())
        if found.verdict == "landed":
            return found.result
        raise rejected(f"linear tracker {self.name!r}: {request.op.value} refused: "
                       f"{'; '.join(str(e.get('message')) for e in errors[:2]) or 'no data'}")

    def _issue_result(self, issue: dict, **extra) -> WriteResult:
        return WriteResult(external_id=issue["id"], external_key=issue.get("identifier") or issue["id"],
                           url=issue.get("url", ""), **extra)

    def _state_id(self, solved: bool) -> str:
        configured = self.config.done_state_id if solved else self.config.reopened_state_id
        if configured:
            return configured
        kind = "completed" if solved else "unstarted"
        if kind not in self._states:
            data, errors = self._gql(STATES, {"teamId": self.config.team_id, "type": kind}, write=False)
            nodes = sorted(((data.get("workflowStates") or {}).get("nodes") or []),
                           key=lambda n: n.get("position") or 0)
            if not nodes:
                raise misconfigured(f"linear tracker {self.name!r}: team {self.config.team_id} has no {kind} "
                                    f"state {errors[:1] or ''}; set done_state_id / reopened_state_id")
            self._states[kind] = nodes[0]["id"]
        return self._states[kind]

    def reconcile(self, request: WriteRequest, now: float) -> Reconciled:
        """Look the client-chosen id up; a state update is safe to repeat."""
        if request.op is TrackerOp.STATUS:
            return Reconciled.absent()
        query, key = (ISSUE, "issue") if request.op is TrackerOp.CREATE else (COMMENT, "comment")
        data, errors = self._gql(query, {"id": request.client_id}, write=False)
        item = data.get(key)
        if item:
            if request.op is TrackerOp.CREATE:
                return Reconciled.landed(self._issue_result(item, reconciled=True))
            return Reconciled.landed(WriteResult(remote_id=item["id"], url=item.get("url", ""), reconciled=True))
        if errors and not _not_found(errors):
            raise TrackerError(f"linear tracker {self.name!r}: lookup failed: {errors[0].get('message')}",
                               kind="unavailable", retryable=True)
        return Reconciled.absent()
