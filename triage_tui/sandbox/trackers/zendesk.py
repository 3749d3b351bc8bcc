"""A fake of the Zendesk Support Tickets API (v2) for these calls, close enough that zenpy cannot tell.

Tickets: create (with requester, comment, tags, priority, external_id) honouring `Idempotency-Key`
(same key and body within two hours: the first response again with `x-idempotency-lookup: hit`; same
key, other body: 400 IdempotentRequestError), show, list by external_id, update (comment public or
private, status), comments. Paths work with or without `.json`, as zenpy sends them. Limits: 700
requests per minute (Enterprise) and 100 ticket updates per minute, 429 with Retry-After.
"""

from __future__ import annotations

import base64
import hashlib
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from triage_tui.sandbox.trackers.common import FakeTracker, RateLimit, iso, json_object

KEY_TTL_S = 2 * 3600
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
MAX_COMMENTS = 5000


class FakeZendesk(FakeTracker):
    """One account with one agent (`email` + API token)."""

    kind = "zendesk"

    def __init__(self, *, token: str = "zd-sandbox-token", email: str = "agent@example.com",
                 per_minute: int = 700, updates_per_minute: int = 100, **options) -> None:
        limits = [RateLimit("account", per_minute, 60.0, ("GET", "POST", "PUT", "DELETE"), "/api/v2/"),
                  RateLimit("update-ticket", updates_per_minute, 60.0, ("PUT",), "/api/v2/tickets/")]
        super().__init__(token=token, rate_limits=limits, **options)
        self.email = email
        self._clear()

    def _clear(self) -> None:
        self.tickets: dict[int, dict] = {}
        self.users: dict[str, dict] = {}
        self.keys: dict[str, tuple[str, float, int, dict]] = {}
        self._ids = 100

    def authorize(self, headers):
        basic = "Basic " + base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        if headers.get("authorization", "") in (basic, f"Bearer {self.token}"):
            return None
        return JSONResponse({"error": "Couldn't authenticate you"}, status_code=401)

    def error(self, status, message, *, retry_after=None, details=None, code=None):
        headers = {"retry-after": str(int(retry_after))} if retry_after is not None else {}
        body = {"error": code or {404: "RecordNotFound", 422: "RecordInvalid"}.get(status, "Error"),
                "description": message}
        if details:
            body["details"] = details
        return JSONResponse(body, status_code=status, headers=headers)

    def rate_limited(self, limit, wait):
        return JSONResponse({"error": "APIRateLimitExceeded", "description": "Number of allowed API requests "
                             "per minute exceeded"}, status_code=429,
                            headers={"retry-after": str(max(1, round(wait))), "x-rate-limit": str(limit.limit),
                                     "x-rate-limit-remaining": "0"})

    def _next(self) -> int:
        self._ids += 1
        return self._ids

    def _user(self, requester: dict) -> int:
        email = str(requester.get("email") or "").lower()
        if email not in self.users:
            self.users[email] = {"id": self._next(), "email": email, "name": requester.get("name") or email}
        return self.users[email]["id"]

    def _ticket_json(self, ticket: dict) -> dict:
        return {k: v for k, v in ticket.items() if not k.startswith("_")} | {
            "url": f"{self.base_url}/api/v2/tickets/{ticket['id']}.json"}

    def _comment(self, ticket: dict, raw: dict, author: int) -> dict:
        comment = {"id": self._next(), "type": "Comment", "author_id": author, "body": str(raw.get("body") or ""),
                   "html_body": f"<p>{raw.get('body') or ''}</p>", "plain_body": str(raw.get("body") or ""),
                   "public": bool(raw.get("public", True)), "created_at": iso()}
        ticket["_comments"].append(comment)
        return comment

    def _create(self, body: dict) -> tuple[int, dict]:
        raw = body.get("ticket") if isinstance(body.get("ticket"), dict) else None
        if raw is None or not isinstance(raw.get("comment"), dict) or not raw["comment"].get("body"):
            return 422, {"error": "RecordInvalid", "description": "Record validation errors",
                         "details": {"base": [{"description": "Description: cannot be blank", "error": "BlankValue"}]}}
        if raw.get("requester_id") and raw.get("requester"):
            return 400, {"error": "InvalidValue", "description": "Use requester_id or requester, not both"}
        agent = self._user({"email": self.email, "name": "Agent"})
        requester = self._user(raw["requester"]) if isinstance(raw.get("requester"), dict) else agent
        ticket = {"id": self._next(), "subject": raw.get("subject") or "", "raw_subject": raw.get("subject") or "",
                  "description": raw["comment"]["body"], "status": raw.get("status") or "new",
                  "priority": raw.get("priority"), "requester_id": requester, "submitter_id": agent,
                  "tags": list(raw.get("tags") or []), "external_id": raw.get("external_id"),
                  "created_at": iso(), "updated_at": iso(), "_comments": []}
        comment = self._comment(ticket, raw["comment"], agent)
        self.tickets[ticket["id"]] = ticket
        audit = {"id": self._next(), "ticket_id": ticket["id"], "created_at": iso(), "author_id": agent,
                 "events": [{"id": comment["id"], "type": "Comment", "body": comment["body"]}]}
        return 201, {"ticket": self._ticket_json(ticket), "audit": audit}

    def routes(self):
        async def tickets(request: Request) -> Response:
            if request.method == "GET":
                wanted = request.query_params.get("external_id")
                with self.lock:
                    found = [self._ticket_json(t) for t in self.tickets.values()
                             if wanted is None or t["external_id"] == wanted]
                return JSONResponse({"tickets": found, "count": len(found), "next_page": None, "previous_page": None})
            raw = await request.body()
            body = await json_object(request)
            if body is None:
                return self.error(400, "Unable to parse the request body", code="InvalidJSON")
            key = request.headers.get("idempotency-key")
            digest = hashlib.sha256(raw).hexdigest()
            with self.lock:
                now = time.time()
                if key and key in self.keys and now - self.keys[key][1] < KEY_TTL_S:
                    seen_digest, _, status, out = self.keys[key]
                    if seen_digest != digest:
                        return self.error(400, "Request parameters don't match the given idempotency key",
                                          code="IdempotentRequestError")
                    return JSONResponse(out, status_code=status, headers={"x-idempotency-lookup": "hit"})
                status, out = self._create(body)
                if key:
                    self.keys[key] = (digest, now, status, out)
            headers = {"x-idempotency-lookup": "miss"} if key else {}
            if status == 201:
                headers["location"] = out["ticket"]["url"]
            return JSONResponse(out, status_code=status, headers=headers)

        async def one(request: Request) -> Response:
            ticket_id = request.path_params["id"]
            with self.lock:
                ticket = self.tickets.get(ticket_id)
                if ticket is None:
                    return self.error(404, "Not found")
                if request.method == "GET":
                    return JSONResponse({"ticket": self._ticket_json(ticket)})
            body = await json_object(request)
            change = (body or {}).get("ticket")
            if not isinstance(change, dict):
                return self.error(400, "Unable to parse the request body", code="InvalidJSON")
            if change.get("status") is not None and change["status"] not in STATUSES:
                return self.error(422, "Record validation errors", details={"status": [{"error": "InvalidValue"}]})
            with self.lock:
                events = []
                if isinstance(change.get("comment"), dict):
                    if len(ticket["_comments"]) >= MAX_COMMENTS:
                        return self.error(422, "Record validation errors", details={
                            "base": [{"description": "Ticket has reached the comment limit", "error": "TooManyComments"}]})
                    comment = self._comment(ticket, change["comment"], self._user({"email": self.email}))
                    events.append({"id": comment["id"], "type": "Comment", "body": comment["body"]})
                if change.get("status"):
                    ticket["status"] = change["status"]
                    events.append({"id": self._next(), "type": "Change", "field_name": "status",
                                   "value": change["status"]})
                for field in ("subject", "priority", "tags"):
                    if field in change:
                        ticket[field] = change[field]
                ticket["updated_at"] = iso()
                audit = {"id": self._next(), "ticket_id": ticket_id, "created_at": iso(), "events": events}
                return JSONResponse({"ticket": self._ticket_json(ticket), "audit": audit})

        async def comments(request: Request) -> Response:
            with self.lock:
                ticket = self.tickets.get(request.path_params["id"])
                if ticket is None:
                    return self.error(404, "Not found")
                return JSONResponse({"comments": list(ticket["_comments"]), "next_page": None, "previous_page": None,
                                     "count": len(ticket["_comments"])})

        async def me(request: Request) -> Response:
            with self.lock:
                agent = self._user({"email": self.email, "name": "Agent"})
            return JSONResponse({"user": {"id": agent, "email": self.email, "role": "agent"}})

        async def user(request: Request) -> Response:
            with self.lock:
                found = next((u for u in self.users.values() if u["id"] == request.path_params["id"]), None)
            if found is None:
                return self.error(404, "Not found")
            return JSONResponse({"user": {**found, "role": "end-user" if found["email"] != self.email else "agent"}})

        routes = []
        for suffix in ("", ".json"):
            routes += [Route(f"/api/v2/tickets{suffix}", tickets, methods=["GET", "POST"]),
                       Route(f"/api/v2/tickets/{{id:int}}{suffix}", one, methods=["GET", "PUT"]),
                       Route(f"/api/v2/tickets/{{id:int}}/comments{suffix}", comments, methods=["GET"]),
                       Route(f"/api/v2/users/me{suffix}", me, methods=["GET"]),
                       Route(f"/api/v2/users/{{id:int}}{suffix}", user, methods=["GET"])]
        return routes

    def snapshot(self) -> dict:
        with self.lock:
            items = [self._ticket_json(t) for t in self.tickets.values()]
            comments = [{**c, "ticket_id": t["id"]} for t in self.tickets.values() for c in t["_comments"][1:]]
            first = [t["_comments"][0]["body"] for t in self.tickets.values() if t["_comments"]]
        texts = [{"kind": "issue", "text": body} for body in first]
        texts += [{"kind": "comment", "text": c["body"]} for c in comments]
        return {"items": items, "comments": comments, "texts": texts, "requests": dict(self.requests)}
