"""Jira Cloud (REST v3): create with an ADF description, comment, transition to the configured states.

Jira has no idempotency key. Each create carries a unique label `triage-k-<command_result_id>` and an
entity property `triage.outbox`; after an unknown outcome the label is searched (JQL, which lags) and a
hit is confirmed through the property, with a grace period before "not there" is believed. Comments are
found by their marker in the issue's comment list; a transition is skipped when the issue is already there.
"""

from __future__ import annotations

import httpx

from triage_tui.domain import TrackerOp, TrackerStatus
from triage_tui.trackers.base import Reconciled, WriteRequest, WriteResult, misconfigured, rejected
from triage_tui.trackers.http import HttpTracker, secret_from_env
from triage_tui.trackers.render import adf_comment, adf_create, adf_text, has_marker, title

PROPERTY = "triage.outbox"
API = "/rest/api/3"
MAX_COMMENT_PAGES = 20
MAX_SEARCH_PAGES = 10


def marker_label(command_result_id: str) -> str:
    """The unique label a create carries, searchable with JQL."""
    return f"triage-k-{command_result_id}"


class JiraTracker(HttpTracker):
    """One project of a Jira Cloud site."""

    kind = "jira"

    def __init__(self, name: str, config, *, transport: httpx.BaseTransport | None = None) -> None:
        token = secret_from_env(config.token_env, f"jira tracker {name!r}")
        headers = {"Accept": "application/json"}
        auth = None
        if config.email:
            auth = (config.email, token)
        else:
            headers["Authorization"] = f"Bearer {token}"
        super().__init__(name, config, base_url=config.base_url, headers=headers, auth=auth, transport=transport)
        self.browse_url = (config.browse_url or config.base_url).rstrip("/")

    def write(self, request: WriteRequest) -> WriteResult:
        """Create the issue, add a comment, or transition it."""
        payload = request.payload
        if request.op is TrackerOp.CREATE:
            fields = {
                "project": {"key": self.config.project_key}, "issuetype": {"name": self.config.issue_type},
                "summary": title(payload, 250), "description": adf_create(payload, request.command_result_id),
                "labels": [*self.config.labels, marker_label(request.command_result_id)],
            }
            priority = self.config.priorities.get(payload.get("urgency", ""))
            if priority:
                fields["priority"] = {"name": priority}
            body = {"fields": fields, "properties": [{"key": PROPERTY, "value": {
                "command_result_id": request.command_result_id, "ticket_id": request.ticket_id}}]}
            issue = self.json(self.request("POST", f"{API}/issue", json=body))
            return self._issue_result(issue)
        issue_id = request.ref.external_id
        if request.op is TrackerOp.COMMENT:
            comment = self.json(self.request("POST", f"{API}/issue/{issue_id}/comment",
                                             json={"body": adf_comment(payload, request.command_result_id)}))
            return WriteResult(remote_id=str(comment.get("id", "")))
        return self._transition(issue_id, payload.get("status") == TrackerStatus.SOLVED.value)

    def _issue_result(self, issue: dict, **extra) -> WriteResult:
        if not issue.get("key"):
            raise rejected(f"jira tracker {self.name!r}: the response has no issue key")
        return WriteResult(external_id=str(issue.get("id") or issue["key"]), external_key=issue["key"],
                           url=f"{self.browse_url}/browse/{issue['key']}", **extra)

    def _transition(self, issue_id: str, solved: bool) -> WriteResult:
        wanted = (self.config.done_status if solved else self.config.reopened_status).strip().lower()
        current = self.json(self.request("GET", f"{API}/issue/{issue_id}", params={"fields": "status"}))
        status = (current.get("fields") or {}).get("status") or {}
        category = (status.get("statusCategory") or {}).get("key") or ""
        already = status.get("name", "").lower() == wanted if wanted else (category == "done") == solved
        if already and (wanted or category):
            return WriteResult(replay=True, note=f"already {status.get('name', '')}")
        offered = self.json(self.request("GET", f"{API}/issue/{issue_id}/transitions")).get("transitions") or []
        if wanted:
            choice = next((t for t in offered if wanted in (t.get("name", "").lower(),
                                                            (t.get("to") or {}).get("name", "").lower())), None)
        else:
            order = ("done",) if solved else ("new", "indeterminate")
            ranked = sorted((order.index(k), i) for i, t in enumerate(offered)
                            if (k := ((t.get("to") or {}).get("statusCategory") or {}).get("key")) in order)
            choice = offered[ranked[0][1]] if ranked else None
        if choice is None:
            names = ", ".join(f"{t.get('name')}->{(t.get('to') or {}).get('name')}" for t in offered) or "none"
            raise misconfigured(f"jira tracker {self.name!r}: no transition to {wanted or ('done' if solved else 'open')} "
                                f"is offered on {issue_id} (offered: {names}); set done_status / reopened_status")
        self.request("POST", f"{API}/issue/{issue_id}/transitions", json={"transition": {"id": str(choice["id"])}})
        return WriteResult(note=f"transition {choice.get('name', choice['id'])}")

    def reconcile(self, request: WriteRequest, now: float) -> Reconciled:
        """Search the marker label (confirmed by the property), or the comment marker; grace for the index."""
        if request.op is TrackerOp.STATUS:
            return Reconciled.absent()
        if request.op is TrackerOp.CREATE:
            found = self._find_issue(request.command_result_id)
            if found is not None:
                return Reconciled.landed(self._issue_result(found, reconciled=True))
        else:
            comment = self._find_comment(request.ref.external_id, request.command_result_id)
            if comment is not None:
                return Reconciled.landed(WriteResult(remote_id=str(comment.get("id", "")), reconciled=True))
        return Reconciled.not_found(request, now, self.config.reconcile_grace_s, "not found yet; Jira's search index lags writes")

    def _find_issue(self, command_result_id: str) -> dict | None:
        jql = f'project = "{self.config.project_key}" AND labels = "{marker_label(command_result_id)}"'
        body = {"jql": jql, "fields": ["summary", "labels"], "maxResults": 50}
        for _ in range(MAX_SEARCH_PAGES):
            page = self.json(self.request("POST", f"{API}/search/jql", json=body, write=False))
            for issue in page.get("issues") or []:
                prop = self.request("GET", f"{API}/issue/{issue['id']}/properties/{PROPERTY}")
                if (self.json(prop).get("value") or {}).get("command_result_id") == command_result_id:
                    return issue
            token = page.get("nextPageToken")
            if page.get("isLast", True) or not token:
                return None
            body = {**body, "nextPageToken": token}
        raise rejected(f"jira tracker {self.name!r}: more than {MAX_SEARCH_PAGES} pages carry one write's label")

    def _find_comment(self, issue_id: str, command_result_id: str) -> dict | None:
        start = 0
        for _ in range(MAX_COMMENT_PAGES):
            page = self.json(self.request("GET", f"{API}/issue/{issue_id}/comment",
                                          params={"startAt": start, "maxResults": 100}))
            comments = page.get("comments") or []
            for comment in comments:
                if has_marker(adf_text(comment.get("body")), command_result_id):
                    return comment
            start += len(comments)
            if not comments or start >= int(page.get("total", 0)):
                return None
        raise rejected(f"jira tracker {self.name!r}: too many comments on {issue_id} to search")
