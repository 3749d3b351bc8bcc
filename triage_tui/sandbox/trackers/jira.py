"""A fake of Jira Cloud REST v3 for these calls: issues with ADF, comments, transitions, properties, JQL search.

Validation is 400 with an ErrorCollection, as Jira answers; a description or comment that is not an
ADF document is refused. The workflow is To Do (new) -> In Progress (indeterminate) -> Done (done); a
transition to the status the issue already has is not offered. The search index lags writes by
`index_lag_s` (Atlassian: "seconds to minutes"); the issue and property endpoints do not. A burst limit
(`burst_per_s` writes per second, a figure Atlassian does not publish) answers 429 with Retry-After
and RateLimit-Reason. The old /search answers 410.
"""

from __future__ import annotations

import base64
import re
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from triage_tui.sandbox.trackers.common import FakeTracker, RateLimit, json_object

STATUSES = {"10000": ("To Do", "new"), "3": ("In Progress", "indeterminate"), "10001": ("Done", "done")}
TRANSITIONS = {"11": "10000", "21": "3", "31": "10001"}
TRANSITION_NAMES = {"11": "To Do", "21": "Start progress", "31": "Done"}
_CLAUSE = re.compile(r'^\s*(project|labels|key|issuekey)\s*(=|in)\s*(.+?)\s*$', re.IGNORECASE)


def adf_ok(doc) -> bool:
    """An ADF document: version 1, type doc, content a list."""
    return isinstance(doc, dict) and doc.get("type") == "doc" and doc.get("version") == 1 \
        and isinstance(doc.get("content"), list)


def adf_text(node) -> str:
    """Every text of an ADF node."""
    if isinstance(node, dict):
        return (node.get("text") or "") + " ".join(adf_text(c) for c in node.get("content") or [])
    if isinstance(node, list):
        return " ".join(adf_text(c) for c in node)
    return ""


def _values(raw: str) -> list[str]:
    raw = raw.strip()
    if raw.startswith("(") and raw.endswith(")"):
        raw = raw[1:-1]
    return [v.strip().strip('"').strip("'") for v in raw.split(",") if v.strip()]


class FakeJira(FakeTracker):
    """One site with the projects named in `projects`."""

    kind = "jira"

    def __init__(self, *, token: str = "jira-sandbox-token", email: str = "bot@example.com",
                 projects: tuple[str, ...] = ("SUP",), index_lag_s: float = 0.0, burst_per_s: int = 20,
                 **options) -> None:
        super().__init__(token=token, rate_limits=[RateLimit("jira-burst-based", burst_per_s, 1.0)], **options)
        self.email = email
        self.projects = set(projects)
        self.index_lag_s = index_lag_s
        self._clear()

    def _clear(self) -> None:
        self.issues: list[dict] = []
        self.comments: list[dict] = []
        self._ids = 10000

    def authorize(self, headers):
        auth = headers.get("authorization", "")
        basic = "Basic " + base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        if auth in (basic, f"Bearer {self.token}"):
            return None
        return PlainTextResponse("Client must be authenticated to access this resource.", status_code=401)

    def error(self, status, message, *, retry_after=None, errors=None):
        headers = {"retry-after": str(int(retry_after))} if retry_after is not None else {}
        return JSONResponse({"errorMessages": [message] if message else [], "errors": errors or {}},
                            status_code=status, headers=headers)

    def rate_limited(self, limit, wait):
        return JSONResponse({"errorMessages": ["Rate limit exceeded."], "errors": {}}, status_code=429,
                            headers={"retry-after": str(max(1, round(wait))), "ratelimit-reason": limit.name,
                                     "x-ratelimit-limit": str(limit.limit), "x-ratelimit-remaining": "0"})

    def _find(self, ref: str) -> dict | None:
        return next((i for i in self.issues if ref in (i["id"], i["key"])), None)

    def _issue_json(self, issue: dict, fields: list[str] | None = None) -> dict:
        name, category = STATUSES[issue["status"]]
        all_fields = {**issue["fields"], "status": {"id": issue["status"], "name": name,
                                                    "statusCategory": {"key": category}}}
        if fields:
            all_fields = {k: v for k, v in all_fields.items() if k in fields}
        return {"id": issue["id"], "key": issue["key"], "self": f"{self.base_url}/rest/api/3/issue/{issue['id']}",
                "fields": all_fields}

    def routes(self):
        async def create(request: Request) -> Response:
            body = await json_object(request)
            fields = (body or {}).get("fields")
            if not isinstance(fields, dict):
                return self.error(400, "Can not deserialize the request: fields is required")
            errors = {}
            project = (fields.get("project") or {}).get("key") or (fields.get("project") or {}).get("id")
            if project not in self.projects:
                errors["project"] = "valid project is required"
            if not (fields.get("issuetype") or {}).get("name") and not (fields.get("issuetype") or {}).get("id"):
                errors["issuetype"] = "valid issue type is required"
            if not str(fields.get("summary") or "").strip():
                errors["summary"] = "You must specify a summary of the issue."
            elif len(fields["summary"]) > 255:
                errors["summary"] = "Summary must be less than 255 characters."
            if "description" in fields and not adf_ok(fields["description"]):
                errors["description"] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            if any(" " in str(label) for label in fields.get("labels") or []):
                errors["labels"] = "The label can't contain spaces."
            if errors:
                return self.error(400, "", errors=errors)
            with self.lock:
                self._ids += 1
                number = sum(1 for i in self.issues if i["key"].startswith(f"{project}-")) + 1
                properties = {p["key"]: p.get("value") for p in (body.get("properties") or []) if isinstance(p, dict)}
                issue = {"id": str(self._ids), "key": f"{project}-{number}", "status": "10000",
                         "fields": {k: v for k, v in fields.items()}, "properties": properties,
                         "created": time.time()}
                self.issues.append(issue)
            return JSONResponse({"id": issue["id"], "key": issue["key"],
                                 "self": f"{self.base_url}/rest/api/3/issue/{issue['id']}"}, status_code=201)

        async def get_issue(request: Request) -> Response:
            with self.lock:
                issue = self._find(request.path_params["ref"])
                if issue is None:
                    return self.error(404, "Issue does not exist or you do not have permission to see it.")
                wanted = [f for f in request.query_params.get("fields", "").split(",") if f]
                return JSONResponse(self._issue_json(issue, wanted or None))

        async def comments(request: Request) -> Response:
            with self.lock:
                issue = self._find(request.path_params["ref"])
            if issue is None:
                return self.error(404, "Issue does not exist or you do not have permission to see it.")
            if request.method == "GET":
                start = int(request.query_params.get("startAt", 0))
                size = min(100, int(request.query_params.get("maxResults", 50)))
                with self.lock:
                    mine = [self._comment_json(c) for c in self.comments if c["issue"] == issue["id"]]
                return JSONResponse({"startAt": start, "maxResults": size, "total": len(mine),
                                     "comments": mine[start:start + size]})
            body = await json_object(request)
            if body is None or not adf_ok(body.get("body")):
                return self.error(400, "", errors={"comment": "Comment body must be an Atlassian Document"})
            with self.lock:
                self._ids += 1
                comment = {"id": str(self._ids), "issue": issue["id"], "body": body["body"], "created": time.time()}
                self.comments.append(comment)
            return JSONResponse(self._comment_json(comment), status_code=201)

        async def transitions(request: Request) -> Response:
            with self.lock:
                issue = self._find(request.path_params["ref"])
                if issue is None:
                    return self.error(404, "Issue does not exist or you do not have permission to see it.")
                offered = [t for t, target in TRANSITIONS.items() if target != issue["status"]]
                if request.method == "GET":
                    return JSONResponse({"transitions": [
                        {"id": t, "name": TRANSITION_NAMES[t], "to": {"id": TRANSITIONS[t],
                         "name": STATUSES[TRANSITIONS[t]][0], "statusCategory": {"key": STATUSES[TRANSITIONS[t]][1]}}}
                        for t in offered]})
            body = await json_object(request)
            wanted = str(((body or {}).get("transition") or {}).get("id", ""))
            with self.lock:
                if wanted not in offered:
                    return self.error(400, f"Transition id '{wanted}' is not valid for this issue.")
                issue["status"] = TRANSITIONS[wanted]
            return Response(status_code=204)

        async def prop(request: Request) -> Response:
            with self.lock:
                issue = self._find(request.path_params["ref"])
                key = request.path_params["key"]
                if issue is None or key not in issue["properties"]:
                    return self.error(404, f"The property with key '{key}' does not exist.")
                return JSONResponse({"key": key, "value": issue["properties"][key]})

        async def search(request: Request) -> Response:
            if request.method == "POST":
                body = await json_object(request) or {}
            else:
                q = request.query_params
                body = {**q, "fields": [f for v in q.getlist("fields") for f in v.split(",") if f]}
            jql = str(body.get("jql") or "")
            clauses = [c for c in re.split(r"\s+AND\s+", jql, flags=re.IGNORECASE) if c.strip()]
            parsed = [_CLAUSE.match(c) for c in clauses]
            if not jql or not all(parsed):
                return self.error(400, f"Error in the JQL Query: {jql!r} is not supported by this fake.")
            fields = [f for f in body.get("fields") or [] if f not in ("*all", "*navigable")]
            everything = bool(body.get("fields")) and not fields
            with self.lock:
                visible = [i for i in self.issues if time.time() - i["created"] >= self.index_lag_s]
                for match in parsed:
                    name, values = match.group(1).lower(), _values(match.group(3))
                    if name == "project":
                        visible = [i for i in visible if i["key"].split("-")[0] in values]
                    elif name == "labels":
                        visible = [i for i in visible if set(values) & set(i["fields"].get("labels") or [])]
                    else:
                        visible = [i for i in visible if i["key"] in values]
                issues = [self._issue_json(i, fields or None) if fields or everything else
                          {"id": i["id"], "key": i["key"], "self": f"{self.base_url}/rest/api/3/issue/{i['id']}"}
                          for i in visible]
            return JSONResponse({"issues": issues[:int(body.get("maxResults") or 50)], "isLast": True})

        async def gone(request: Request) -> Response:
            return self.error(410, "The requested API has been removed. Please migrate to /rest/api/3/search/jql.")

        async def server_info(request: Request) -> Response:
            return JSONResponse({"baseUrl": self.base_url, "version": "1001.0.0-SNAPSHOT",
                                 "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud", "buildNumber": 100300,
                                 "serverTitle": "Jira (triage-tui sandbox)"})

        async def field_list(request: Request) -> Response:
            names = ("summary", "description", "labels", "status", "issuetype", "project", "priority", "comment")
            return JSONResponse([{"id": n, "key": n, "name": n.capitalize(), "custom": False, "navigable": True,
                                  "searchable": True, "clauseNames": [n]} for n in names])

        async def myself(request: Request) -> Response:
            return JSONResponse({"accountId": "fake-bot", "emailAddress": self.email, "displayName": "Triage bot"})

        api = "/rest/api/3"
        return [Route(f"{api}/issue", create, methods=["POST"]),
                Route(f"{api}/issue/{{ref}}", get_issue, methods=["GET"]),
                Route(f"{api}/issue/{{ref}}/comment", comments, methods=["GET", "POST"]),
                Route(f"{api}/issue/{{ref}}/transitions", transitions, methods=["GET", "POST"]),
                Route(f"{api}/issue/{{ref}}/properties/{{key}}", prop, methods=["GET"]),
                Route(f"{api}/search/jql", search, methods=["GET", "POST"]),
                Route(f"{api}/search", gone, methods=["GET", "POST"]),
                Route(f"{api}/serverInfo", server_info, methods=["GET"]),
                Route(f"{api}/myself", myself, methods=["GET"]), Route(f"{api}/field", field_list, methods=["GET"])]

    def _comment_json(self, comment: dict) -> dict:
        return {"id": comment["id"], "body": comment["body"],
                "self": f"{self.base_url}/rest/api/3/issue/{comment['issue']}/comment/{comment['id']}",
                "author": {"accountId": "fake-bot"}}

    def snapshot(self) -> dict:
        with self.lock:
            items = [self._issue_json(i) for i in self.issues]
            comments = [self._comment_json(c) for c in self.comments]
        texts = [{"kind": "issue", "text": adf_text(i["fields"].get("description"))} for i in items]
        texts += [{"kind": "comment", "text": adf_text(c["body"])} for c in comments]
        return {"items": items, "comments": comments, "texts": texts, "requests": dict(self.requests)}
