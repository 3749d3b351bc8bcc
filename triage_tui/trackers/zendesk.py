"""Zendesk Support (Tickets API v2): create with requester and Idempotency-Key, comments, status.

A create is sent with `Idempotency-Key: <command_result_id>` and the same bytes every time, so a resend
inside Zendesk's two-hour window returns the first ticket. Past `idempotency_window_s` the ticket is
looked up by `external_id` instead; not found there means a person decides. Comments carry a marker and
are looked for in the ticket's comments before a resend; a status change is safe to repeat.
"""

from __future__ import annotations

import json

import httpx

from triage_tui.domain import TrackerOp, TrackerStatus
from triage_tui.trackers.base import Reconciled, TrackerError, WriteRequest, WriteResult, rejected
from triage_tui.trackers.http import HttpTracker, secret_from_env
from triage_tui.trackers.render import clean_line, has_marker, plain_comment, plain_create, title

MAX_COMMENT_PAGES = 50


class ZendeskTracker(HttpTracker):
    """One Zendesk account."""

    kind = "zendesk"

    def __init__(self, name: str, config, *, transport: httpx.BaseTransport | None = None) -> None:
        token = secret_from_env(config.token_env, f"zendesk tracker {name!r}")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        auth = None
        if config.oauth or not config.email:
            headers["Authorization"] = f"Bearer {token}"
        else:
            auth = (f"{config.email}/token", token)
        super().__init__(name, config, base_url=config.base_url, headers=headers, auth=auth, transport=transport)
        self.agent_url = config.base_url.rstrip("/")

    def create_body(self, request: WriteRequest) -> bytes:
        """The create request, serialised the same way on every attempt (the key binds these bytes)."""
        payload = request.payload
        sender = payload.get("sender") or {}
        ticket = {
            "subject": title(payload, 250),
            "comment": {"body": plain_create(payload, request.command_result_id), "public": self.config.public_comments},
            "tags": [*self.config.tags], "external_id": request.command_result_id,
        }
        if sender.get("email"):
            ticket["requester"] = {"email": clean_line(sender["email"], 250),
                                   "name": clean_line(sender.get("name") or sender["email"], 250)}
        priority = self.config.priorities.get(payload.get("urgency", ""))
        if priority:
            ticket["priority"] = priority
        return json.dumps({"ticket": ticket}, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def write(self, request: WriteRequest) -> WriteResult:
        """POST the ticket with its Idempotency-Key, or PUT a comment or a status on it."""
        payload = request.payload
        if request.op is TrackerOp.CREATE:
            response = self._create(request)
            ticket = self.json(response).get("ticket") or {}
            replay = response.headers.get("x-idempotency-lookup", "").lower() == "hit"
            return self._ticket_result(ticket, replay=replay)
        ticket_id = request.ref.external_id
        if request.op is TrackerOp.COMMENT:
            change = {"comment": {"body": plain_comment(payload, request.command_result_id),
                                  "public": self.config.public_comments}}
        else:
            change = {"status": "solved" if payload.get("status") == TrackerStatus.SOLVED.value else "open"}
        body = self.json(self.request("PUT", f"/api/v2/tickets/{ticket_id}", json={"ticket": change}))
        return WriteResult(remote_id=str((body.get("audit") or {}).get("id", "")))

    def _create(self, request: WriteRequest) -> httpx.Response:
        try:
            return self.request("POST", "/api/v2/tickets", content=self.create_body(request),
                                headers={"Idempotency-Key": request.command_result_id})
        except TrackerError as exc:
            if exc.status == 400 and "idempotent" in str(exc).lower():
                raise rejected(f"zendesk tracker {self.name!r}: the create changed since its first attempt "
                               f"(IdempotentRequestError); check the ticket by hand", 400) from None
            raise

    def _ticket_result(self, ticket: dict, **extra) -> WriteResult:
        if "id" not in ticket:
            raise rejected(f"zendesk tracker {self.name!r}: the response has no ticket id")
        return WriteResult(external_id=str(ticket["id"]), external_key=f"#{ticket['id']}",
                           url=f"{self.agent_url}/agent/tickets/{ticket['id']}", **extra)

    def reconcile(self, request: WriteRequest, now: float) -> Reconciled:
        """Inside the key's window a resend is safe; past it, or for a comment, look for what we wrote."""
        if request.op is TrackerOp.STATUS:
            return Reconciled.absent()
        if request.op is TrackerOp.CREATE:
            first = request.first_attempt_at or now
            if now - first < self.config.idempotency_window_s:
                return Reconciled.absent()
            found = self.json(self.request("GET", "/api/v2/tickets",
                                           params={"external_id": request.command_result_id})).get("tickets") or []
            if found:
                return Reconciled.landed(self._ticket_result(found[0], reconciled=True))
            return Reconciled.human("past the Idempotency-Key window and no ticket has this external_id; "
                                    "look for the marker before creating it again")
        comment = self._find_comment(request.ref.external_id, request.command_result_id)
        if comment is not None:
            return Reconciled.landed(WriteResult(remote_id=str(comment.get("id", "")), reconciled=True))
        return Reconciled.not_found(request, now, self.config.reconcile_grace_s, "not listed yet")

    def _find_comment(self, ticket_id: str, command_result_id: str) -> dict | None:
        url: str | None = f"/api/v2/tickets/{ticket_id}/comments"
        for _ in range(MAX_COMMENT_PAGES):
            page = self.json(self.request("GET", self.same_host(url)))
            for comment in page.get("comments") or []:
                if has_marker(comment.get("body") or comment.get("plain_body"), command_result_id):
                    return comment
            url = page.get("next_page")
            if not url:
                return None
        raise rejected(f"zendesk tracker {self.name!r}: too many comment pages on {ticket_id} to search")
