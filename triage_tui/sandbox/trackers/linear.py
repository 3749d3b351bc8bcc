"""A fake of Linear's GraphQL API for these calls, executed by graphql-core against a subset of Linear's schema.

The types and fields below are copied from Linear's published schema.graphql (a subset: a query that
asks for anything else fails validation exactly as Linear's server would). Ordinary errors come with
HTTP 200 and `errors[]`; the documented rate limit (2,500 requests per hour for an API key) answers
HTTP 400 with `extensions.code = "RATELIMITED"` (or a bare 429 with `bare_429=True`). What Linear does
with an issueCreate whose client id is taken is not published: `duplicate_id="error"` (default) answers
an error, `"replay"` returns the existing issue. A bad key answers `auth_status` (400 or 401).
"""

from __future__ import annotations

import json
import re
import time
import uuid

from graphql import GraphQLError, build_schema, graphql_sync
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from triage_tui.sandbox.trackers.common import FakeTracker, RateLimit

SCHEMA = build_schema('''
scalar DateTime
scalar JSON
scalar TimelessDate
type Team { id: ID! key: String! name: String! }
type WorkflowState { id: ID! name: String! type: String! position: Float! team: Team! }
type WorkflowStateConnection { nodes: [WorkflowState!]! }
type Issue {
  id: ID! identifier: String! number: Float! title: String! description: String url: String!
  priority: Float! state: WorkflowState! team: Team! createdAt: DateTime! updatedAt: DateTime!
  comments: CommentConnection!
}
type Comment { id: ID! body: String! url: String! issue: Issue createdAt: DateTime! }
type CommentConnection { nodes: [Comment!]! }
type IssuePayload { issue: Issue lastSyncId: Float! success: Boolean! }
type CommentPayload { comment: Comment! lastSyncId: Float! success: Boolean! }
input IDComparator { eq: ID in: [ID!] neq: ID nin: [ID!] }
input StringComparator { eq: String in: [String!] neq: String nin: [String!] }
input TeamFilter { id: IDComparator key: StringComparator }
input WorkflowStateFilter { id: IDComparator name: StringComparator team: TeamFilter type: StringComparator }
input IssueCreateInput {
  assigneeId: String description: String id: String labelIds: [String!] parentId: String priority: Int
  projectId: String stateId: String teamId: String! templateId: String title: String
}
input CommentCreateInput { body: String bodyData: JSON id: String issueId: String parentId: String }
input IssueUpdateInput { description: String labelIds: [String!] priority: Int stateId: String title: String }
type Query {
  issue(id: String!): Issue!
  comment(hash: String, id: String): Comment!
  workflowStates(filter: WorkflowStateFilter, first: Int): WorkflowStateConnection!
}
type Mutation {
  issueCreate(input: IssueCreateInput!): IssuePayload!
  commentCreate(input: CommentCreateInput!): CommentPayload!
  issueUpdate(id: String!, input: IssueUpdateInput!): IssuePayload!
}
''')
_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _error(message: str, code: str, type_: str = "invalid input") -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, "type": type_, "userError": True,
                                             "userPresentableMessage": message})


class FakeLinear(FakeTracker):
    """One workspace with one team (`team_id`, key `team_key`) and its four workflow states."""

    kind = "linear"

    def __init__(self, *, token: str = "lin_api_sandbox", team_id: str = "team-sandbox", team_key: str = "SUP",
                 duplicate_id: str = "error", bare_429: bool = False, auth_status: int = 400,
                 requests_per_hour: int = 2500, **options) -> None:
        limits = [RateLimit("requests", requests_per_hour, 3600.0, ("POST",), "/graphql")]
        super().__init__(token=token, rate_limits=limits, **options)
        self.team = {"id": team_id, "key": team_key, "name": "Support"}
        self.states = [{"id": f"state-{t}", "name": n, "type": t, "position": float(i), "team": self.team}
                       for i, (t, n) in enumerate([("backlog", "Backlog"), ("unstarted", "Todo"),
                                                    ("started", "In Progress"), ("completed", "Done")])]
        self.duplicate_id, self.bare_429, self.auth_status = duplicate_id, bare_429, auth_status
        self._clear()

    def _clear(self) -> None:
        self.issues: dict[str, dict] = {}
        self.comments: dict[str, dict] = {}
        self._sync = 1000

    def authorize(self, headers):
        if headers.get("authorization", "") in (self.token, f"Bearer {self.token}"):
            return None
        return JSONResponse({"errors": [{"message": "Authentication required, not authenticated",
                                         "extensions": {"code": "AUTHENTICATION_ERROR", "type": "authentication error",
                                                        "userPresentableMessage": "Authentication required"}}]},
                            status_code=self.auth_status)

    def error(self, status, message, *, retry_after=None):
        headers = {"retry-after": str(int(retry_after))} if retry_after is not None else {}
        return JSONResponse({"errors": [{"message": message, "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]},
                            status_code=status, headers=headers)

    def rate_limited(self, limit, wait):
        reset = str(int((time.time() + wait) * 1000))
        headers = {"x-ratelimit-requests-limit": str(limit.limit), "x-ratelimit-requests-remaining": "0",
                   "x-ratelimit-requests-reset": reset}
        if self.bare_429:
            return JSONResponse({"errors": [{"message": "Rate limit exceeded"}]}, status_code=429,
                                headers={**headers, "retry-after": str(max(1, round(wait)))})
        return JSONResponse({"errors": [{"message": "Rate limit exceeded", "extensions": {
            "code": "RATELIMITED", "type": "ratelimited", "userPresentableMessage": "Rate limit exceeded"}}]},
            status_code=400, headers=headers)

    # --- resolvers (graphql-core calls root attributes with (info, **args)) -------------------------
    def _issue(self, key: str) -> dict | None:
        return self.issues.get(key) or next((i for i in self.issues.values() if i["identifier"] == key), None)

    def _view(self, issue: dict) -> dict:
        return {**issue, "comments": {"nodes": [c for c in self.comments.values() if c["issue"] is issue]}}

    def issue(self, info, id):
        found = self._issue(id)
        if found is None:
            raise _error("Entity not found: Issue", "INPUT_ERROR")
        return self._view(found)

    def comment(self, info, id=None, hash=None):
        if id not in self.comments:
            raise _error("Entity not found: Comment", "INPUT_ERROR")
        return self.comments[id]

    def workflowStates(self, info, filter=None, first=None):
        states = self.states
        if filter and (filter.get("team") or {}).get("id", {}).get("eq") not in (None, self.team["id"]):
            states = []
        if filter and (filter.get("type") or {}).get("eq"):
            states = [s for s in states if s["type"] == filter["type"]["eq"]]
        return {"nodes": states}

    def issueCreate(self, info, input):
        if input["teamId"] != self.team["id"]:
            raise _error("Entity not found: Team", "INPUT_ERROR")
        client_id = input.get("id")
        if client_id is not None and not _UUID4.match(client_id):
            raise _error("Argument Validation Error: id must be a UUID v4", "INVALID_INPUT")
        if client_id in self.issues:
            if self.duplicate_id == "replay":
                return {"success": True, "lastSyncId": self._sync, "issue": self._view(self.issues[client_id])}
            raise _error("Entity already exists: Issue", "INPUT_ERROR")
        number = len(self.issues) + 1
        identifier = f"{self.team['key']}-{number}"
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        state = next((s for s in self.states if s["id"] == input.get("stateId")), self.states[1])
        issue = {"id": client_id or str(uuid.uuid4()), "identifier": identifier, "number": number,
                 "title": input.get("title") or "", "description": input.get("description"),
                 "url": f"https://linear.app/sandbox/issue/{identifier.lower()}", "priority": input.get("priority") or 0,
                 "state": state, "team": self.team, "createdAt": now, "updatedAt": now}
        self.issues[issue["id"]] = issue
        self._sync += 1
        return {"success": True, "lastSyncId": self._sync, "issue": self._view(issue)}

    def commentCreate(self, info, input):
        issue = self._issue(input.get("issueId") or "")
        if issue is None:
            raise _error("Entity not found: Issue", "INPUT_ERROR")
        client_id = input.get("id") or str(uuid.uuid4())
        if client_id in self.comments:
            raise _error("Entity already exists: Comment", "INPUT_ERROR")
        comment = {"id": client_id, "body": input.get("body") or "", "issue": issue,
                   "url": f"{issue['url']}#comment-{client_id[:8]}",
                   "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}
        self.comments[client_id] = comment
        self._sync += 1
        return {"success": True, "lastSyncId": self._sync, "comment": comment}

    def issueUpdate(self, info, id, input):
        issue = self._issue(id)
        if issue is None:
            raise _error("Entity not found: Issue", "INPUT_ERROR")
        if "stateId" in input:
            state = next((s for s in self.states if s["id"] == input["stateId"]), None)
            if state is None:
                raise _error("Entity not found: WorkflowState", "INPUT_ERROR")
            issue["state"] = state
        for field in ("title", "description", "priority"):
            if field in input:
                issue[field] = input[field]
        self._sync += 1
        return {"success": True, "lastSyncId": self._sync, "issue": self._view(issue)}

    def routes(self):
        async def graphql(request: Request) -> Response:
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                return JSONResponse({"errors": [{"message": "Body is not valid JSON"}]}, status_code=400)
            query = body.get("query") if isinstance(body, dict) else None
            if not isinstance(query, str):
                return JSONResponse({"errors": [{"message": "Must provide query string."}]}, status_code=400)
            with self.lock:
                result = graphql_sync(SCHEMA, query, root_value=self, variable_values=body.get("variables"),
                                      operation_name=body.get("operationName"))
            out = {"data": result.data}
            if result.errors:
                out["errors"] = [e.formatted for e in result.errors]
            status = 400 if result.errors and result.data is None and not any(
                (e.extensions or {}).get("userError") for e in result.errors) else 200
            return JSONResponse(out, status_code=status)

        return [Route("/graphql", graphql, methods=["POST"])]

    def snapshot(self) -> dict:
        with self.lock:
            items = [{k: v for k, v in i.items() if k != "team"} | {"state": i["state"]["type"]}
                     for i in self.issues.values()]
            comments = [{"id": c["id"], "body": c["body"], "issue": c["issue"]["id"]} for c in self.comments.values()]
        texts = [{"kind": "issue", "text": i["description"] or ""} for i in items]
        texts += [{"kind": "comment", "text": c["body"]} for c in comments]
        return {"items": items, "comments": comments, "texts": texts, "requests": dict(self.requests)}
