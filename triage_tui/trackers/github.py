"""GitHub Issues (REST, API version 2022-11-28): create, comment, close/reopen, labels from code.

GitHub has no idempotency key, so a write whose outcome is unknown is looked for by its body marker
before it is sent again: the repo's newest issues (the issues listing, not the search index), or the
issue's comments, with a grace period for a listing that may lag its own writes.
"""

from __future__ import annotations

import time
from datetime import datetime

import httpx

from triage_tui.domain import TrackerOp, TrackerStatus
from triage_tui.trackers.base import Reconciled, WriteRequest, WriteResult, rejected
from triage_tui.trackers.http import HttpTracker, error_text, parse_retry_after, secret_from_env
from triage_tui.trackers.render import has_marker, markdown_comment, markdown_create, title

API_VERSION = "2022-11-28"
SECONDARY_WAIT_S = 60.0
MAX_PAGES = 20
SKEW_MARGIN_S = 86_400.0


class GitHubTracker(HttpTracker):
    """One repository's issues."""

    kind = "github"

    def __init__(self, name: str, config, *, transport: httpx.BaseTransport | None = None) -> None:
        token = secret_from_env(config.token_env, f"github tracker {name!r}")
        super().__init__(name, config, base_url=config.api_url, transport=transport, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION})
        self.repo = config.repo

    def rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Primary and secondary limits: 403 or 429 with retry-after, a spent quota, or the message."""
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        retry = parse_retry_after(headers.get("retry-after"))
        if retry is not None:
            return retry
        if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset", "").isdigit():
            return max(1.0, float(headers["x-ratelimit-reset"]) - time.time())
        if response.status_code == 429 or "rate limit" in error_text(response).lower():
            return SECONDARY_WAIT_S
        return None

    def labels(self, payload: dict) -> list[str]:
        """The configured labels plus category and urgency (values chosen by the approver, from config)."""
        labels = list(self.config.labels)
        for prefix, value in ((self.config.category_label_prefix, payload.get("category")),
                              (self.config.urgency_label_prefix, payload.get("urgency"))):
            if prefix and value:
                labels.append(f"{prefix}{value}")
        return labels

    def write(self, request: WriteRequest) -> WriteResult:
        """Create the issue, add a comment, or close/reopen it."""
        payload = request.payload
        if request.op is TrackerOp.CREATE:
            body = {"title": title(payload, 256), "body": markdown_create(payload, request.command_result_id),
                    "labels": self.labels(payload)}
            if self.config.assignees:
                body["assignees"] = list(self.config.assignees)
            issue = self.json(self.request("POST", f"/repos/{self.repo}/issues", json=body))
            dropped = sorted(set(body["labels"]) - {label.get("name") for label in issue.get("labels") or []})
            return self._issue_result(issue, note=f"labels dropped by GitHub: {dropped}" if dropped else "")
        number = request.ref.external_id
        if request.op is TrackerOp.COMMENT:
            comment = self.json(self.request("POST", f"/repos/{self.repo}/issues/{number}/comments",
                                             json={"body": markdown_comment(payload, request.command_result_id)}))
            return WriteResult(remote_id=str(comment.get("id", "")), url=comment.get("html_url", ""))
        solved = payload.get("status") == TrackerStatus.SOLVED.value
        change = {"state": "closed", "state_reason": "completed"} if solved else {"state": "open", "state_reason": "reopened"}
        self.request("PATCH", f"/repos/{self.repo}/issues/{number}", json=change)
        return WriteResult()

    def _issue_result(self, issue: dict, **extra) -> WriteResult:
        if "number" not in issue:
            raise rejected(f"github tracker {self.name!r}: the response has no issue number")
        return WriteResult(external_id=str(issue["number"]), external_key=f"{self.repo}#{issue['number']}",
                           url=issue.get("html_url", ""), remote_id=str(issue.get("id", "")), **extra)

    def reconcile(self, request: WriteRequest, now: float) -> Reconciled:
        """Find the issue or comment by its marker; a status change is safe to repeat."""
        if request.op is TrackerOp.STATUS:
            return Reconciled.absent()
        if request.op is TrackerOp.CREATE:
            # Newest first, no `since`: the stop is on GitHub's own created_at with a day of margin, so a
            # clock of ours that runs ahead of GitHub's cannot hide the issue we are looking for.
            path = f"/repos/{self.repo}/issues"
            params = {"state": "all", "sort": "created", "direction": "desc", "per_page": 100}
            horizon = (request.first_attempt_at or now) - SKEW_MARGIN_S
        else:
            path, params, horizon = f"/repos/{self.repo}/issues/{request.ref.external_id}/comments", {"per_page": 100}, None
        items, complete = self._pages(path, params, horizon)
        for item in items:
            if request.op is TrackerOp.CREATE and "pull_request" in item:
                continue
            if has_marker(item.get("body"), request.command_result_id):
                if request.op is TrackerOp.CREATE:
                    return Reconciled.landed(self._issue_result(item, reconciled=True))
                return Reconciled.landed(WriteResult(remote_id=str(item.get("id", "")), url=item.get("html_url", ""),
                                                     reconciled=True))
        if not complete:
            return Reconciled.human(f"more than {MAX_PAGES} pages to search for the marker; look for it by hand")
        return Reconciled.not_found(request, now, self.config.reconcile_grace_s,
                                    "not listed yet; GitHub's listing may lag a write")

    def _pages(self, path: str, params: dict, horizon: float | None) -> tuple[list[dict], bool]:
        """Items of a listing, following `Link: rel="next"` as given (same host only), stopping at items
        created before `horizon`; (items, complete)."""
        url, query, found = path, params, []
        for _ in range(MAX_PAGES):
            response = self.request("GET", url, params=query)
            items = response.json()
            items = items if isinstance(items, list) else []
            found += items
            nxt = response.links.get("next", {}).get("url")
            if not nxt or (horizon is not None and items and _epoch(items[-1].get("created_at")) < horizon):
                return found, True
            url, query = self.same_host(nxt), None
        return found, False


def _epoch(stamp: str | None) -> float:
    """GitHub's ISO 8601 time as epoch seconds (0 when missing, so the scan stops)."""
    try:
        return datetime.fromisoformat((stamp or "").replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0
