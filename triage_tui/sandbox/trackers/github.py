"""A fake of the GitHub Issues REST API (2022-11-28) close enough that PyGithub cannot tell for these calls.

Issues: create, get, list (state, since, sort, direction, creator, labels; Link pagination), edit
(state, state_reason, title, body, labels); comments: create, list (since). Errors use GitHub's
envelope; the secondary limit on content creation (80 per minute, 500 per hour) answers 403 with
"secondary rate limit" and, unless `secondary_retry_after=False`, a retry-after header.
`list_lag_s` hides new items from listings for a while (whether GitHub lists its own writes at once
is not documented).
"""

from __future__ import annotations

import time
from datetime import datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from triage_tui.sandbox.trackers.common import FakeTracker, RateLimit, iso, json_object

DOCS = "https://docs.github.com/rest"
BOT = {"login": "triage-bot", "id": 4242, "node_id": "U_triage", "type": "User", "site_admin": False}


class FakeGitHub(FakeTracker):
    """One user's token and any number of repositories, created on first use."""

    kind = "github"

    def __init__(self, *, token: str = "ghp_sandbox", push_access: bool = True, secondary_retry_after: bool = True,
                 list_lag_s: float = 0.0, **options) -> None:
        limits = [RateLimit("secondary-content-minute", 80, 60.0, ("POST",), "/issues"),
                  RateLimit("secondary-content-hour", 500, 3600.0, ("POST",), "/issues")]
        super().__init__(token=token, rate_limits=limits, **options)
        self.push_access = push_access
        self.secondary_retry_after = secondary_retry_after
        self.list_lag_s = list_lag_s
        self._clear()

    def _clear(self) -> None:
        self.issues: dict[str, list[dict]] = {}
        self.comments: list[dict] = []
        self._ids = 1000

    def authorize(self, headers):
        if not headers.get("user-agent"):
            return self.error(403, "Request forbidden by administrative rules. Please make sure your request "
                                   "has a User-Agent header")
        auth = headers.get("authorization", "")
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return self.error(401, "Bad credentials")
        return None

    def error(self, status, message, *, retry_after=None, errors=None):
        body = {"message": message, "documentation_url": DOCS, "status": str(status)}
        if errors:
            body["errors"] = errors
        headers = {"retry-after": str(int(retry_after))} if retry_after is not None else {}
        return JSONResponse(body, status_code=status, headers=headers)

    def rate_limited(self, limit, wait):
        message = ("You have exceeded a secondary rate limit and have been temporarily blocked from content "
                   "creation. Please retry your request again later.")
        return self.error(403, message, retry_after=max(1, round(wait)) if self.secondary_retry_after else None)

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _issue_json(self, repo: str, issue: dict) -> dict:
        api = f"{self.base_url}/repos/{repo}/issues/{issue['number']}"
        return {**{k: v for k, v in issue.items() if not k.startswith("_")},
                "url": api, "repository_url": f"{self.base_url}/repos/{repo}", "comments_url": f"{api}/comments",
                "html_url": f"{self.base_url}/{repo}/issues/{issue['number']}",
                "labels": [{"id": abs(hash(n)) % 10**8, "name": n, "color": "ededed", "default": False}
                           for n in issue["labels"]],
                "comments": sum(1 for c in self.comments if c["_issue"] == (repo, issue["number"]))}

    def _find(self, repo: str, number: str) -> dict | None:
        return next((i for i in self.issues.get(repo, []) if str(i["number"]) == str(number)), None)

    def routes(self):
        async def create_issue(request: Request) -> Response:
            repo = f"{request.path_params['owner']}/{request.path_params['repo']}"
            body = await json_object(request)
            if body is None:
                return self.error(400, "Problems parsing JSON")
            if not isinstance(body.get("title"), (str, int)) or str(body.get("title")) == "":
                return self.error(422, "Validation Failed",
                                  errors=[{"resource": "Issue", "code": "missing_field", "field": "title"}])
            labels = body.get("labels") or []
            if not isinstance(labels, list) or not all(isinstance(n, str) for n in labels):
                return self.error(422, "Invalid request.\n\nFor 'properties/labels', is not an array of strings.")
            with self.lock:
                issues = self.issues.setdefault(repo, [])
                now = time.time()
                issue = {"id": self._next_id(), "node_id": f"I_{len(self.comments)}_{len(issues)}",
                         "number": len(issues) + 1, "title": str(body["title"]), "body": body.get("body"),
                         "state": "open", "state_reason": None, "locked": False, "user": BOT,
                         "labels": labels if self.push_access else [],
                         "assignees": [{"login": a} for a in body.get("assignees") or []] if self.push_access else [],
                         "created_at": iso(now), "updated_at": iso(now), "closed_at": None, "_updated": now,
                         "_created": now}
                issues.append(issue)
                out = self._issue_json(repo, issue)
            return JSONResponse(out, status_code=201, headers={"location": out["url"]})

        async def list_issues(request: Request) -> Response:
            repo = f"{request.path_params['owner']}/{request.path_params['repo']}"
            q = request.query_params
            with self.lock:
                items = list(self.issues.get(repo, []))
            state = q.get("state", "open")
            if state != "all":
                items = [i for i in items if i["state"] == state]
            if q.get("creator"):
                items = [i for i in items if i["user"]["login"] == q["creator"]]
            if q.get("labels"):
                wanted = set(q["labels"].split(","))
                items = [i for i in items if wanted <= set(i["labels"])]
            since = _since(q.get("since"))
            if since is None and q.get("since"):
                return self.error(422, "Validation Failed", errors=[{"field": "since", "code": "invalid"}])
            items = [i for i in items if (since is None or i["_updated"] >= since)
                     and time.time() - i["_created"] >= self.list_lag_s]
            key = "_updated" if q.get("sort") == "updated" else "_created"
            items.sort(key=lambda i: (i[key], i["number"]), reverse=q.get("direction", "desc") == "desc")
            return self._page(request, [self._issue_json(repo, i) for i in items])

        async def get_issue(request: Request) -> Response:
            repo = f"{request.path_params['owner']}/{request.path_params['repo']}"
            with self.lock:
                issue = self._find(repo, request.path_params["number"])
                return JSONResponse(self._issue_json(repo, issue)) if issue else self.error(404, "Not Found")

        async def edit_issue(request: Request) -> Response:
            repo = f"{request.path_params['owner']}/{request.path_params['repo']}"
            body = await json_object(request)
            if body is None:
                return self.error(400, "Problems parsing JSON")
            reasons = (None, "completed", "not_planned", "duplicate", "reopened")
            if body.get("state") not in (None, "open", "closed") or body.get("state_reason") not in reasons:
                return self.error(422, "Validation Failed", errors=[{"resource": "Issue", "code": "invalid",
                                                                     "field": "state"}])
            with self.lock:
                issue = self._find(repo, request.path_params["number"])
                if issue is None:
                    return self.error(404, "Not Found")
                now = time.time()
                if body.get("state") and body["state"] != issue["state"]:
                    issue["state"] = body["state"]
                    issue["state_reason"] = body.get("state_reason")
                    issue["closed_at"] = iso(now) if body["state"] == "closed" else None
                for field in ("title", "body"):
                    if field in body:
                        issue[field] = body[field]
                if "labels" in body and self.push_access:
                    issue["labels"] = list(body["labels"] or [])
                issue["updated_at"], issue["_updated"] = iso(now), now
                return JSONResponse(self._issue_json(repo, issue))

        async def comments(request: Request) -> Response:
            repo = f"{request.path_params['owner']}/{request.path_params['repo']}"
            number = request.path_params["number"]
            if request.method == "GET":
                since = _since(request.query_params.get("since"))
                with self.lock:
                    found = [self._comment_json(c) for c in self.comments if c["_issue"] == (repo, int(number))
                             and (since is None or c["_updated"] >= since)
                             and time.time() - c["_updated"] >= self.list_lag_s]
                return self._page(request, found)
            body = await json_object(request)
            if body is None or not isinstance(body.get("body"), str) or not body["body"]:
                return self.error(422, "Validation Failed", errors=[{"resource": "IssueComment",
                                                                     "code": "missing_field", "field": "body"}])
            with self.lock:
                issue = self._find(repo, number)
                if issue is None:
                    return self.error(404, "Not Found")
                now = time.time()
                comment = {"id": self._next_id(), "node_id": f"IC_{len(self.comments)}", "body": body["body"],
                           "user": BOT, "created_at": iso(now), "updated_at": iso(now), "_updated": now,
                           "_issue": (repo, issue["number"])}
                self.comments.append(comment)
                issue["updated_at"], issue["_updated"] = iso(now), now
                return JSONResponse(self._comment_json(comment), status_code=201)

        async def user(request: Request) -> Response:
            return JSONResponse({**BOT, "url": f"{self.base_url}/users/{BOT['login']}"})

        async def repo_info(request: Request) -> Response:
            full = f"{request.path_params['owner']}/{request.path_params['repo']}"
            return JSONResponse({"id": 1, "name": request.path_params["repo"], "full_name": full,
                                 "owner": {"login": request.path_params["owner"]}, "has_issues": True,
                                 "url": f"{self.base_url}/repos/{full}", "html_url": f"{self.base_url}/{full}"})

        base = "/repos/{owner}/{repo}"
        return [Route("/user", user, methods=["GET"]), Route(base, repo_info, methods=["GET"]),
                Route(f"{base}/issues", create_issue, methods=["POST"]),
                Route(f"{base}/issues", list_issues, methods=["GET"]),
                Route(f"{base}/issues/{{number:int}}", get_issue, methods=["GET"]),
                Route(f"{base}/issues/{{number:int}}", edit_issue, methods=["PATCH"]),
                Route(f"{base}/issues/{{number:int}}/comments", comments, methods=["GET", "POST"])]

    def _comment_json(self, comment: dict) -> dict:
        repo, number = comment["_issue"]
        return {**{k: v for k, v in comment.items() if not k.startswith("_")},
                "url": f"{self.base_url}/repos/{repo}/issues/comments/{comment['id']}",
                "html_url": f"{self.base_url}/{repo}/issues/{number}#issuecomment-{comment['id']}",
                "issue_url": f"{self.base_url}/repos/{repo}/issues/{number}"}

    def _page(self, request: Request, items: list[dict]) -> Response:
        """One page with GitHub's Link header (rel next/last) and rate-limit headers."""
        per_page = min(100, max(1, int(request.query_params.get("per_page", 30))))
        page = max(1, int(request.query_params.get("page", 1)))
        chunk = items[(page - 1) * per_page: page * per_page]
        links = []
        last = max(1, -(-len(items) // per_page))
        if page < last:
            params = {**request.query_params, "page": page + 1}
            links.append(f'<{self.base_url}{request.url.path}?{urlencode(params)}>; rel="next"')
            links.append(f'<{self.base_url}{request.url.path}?{urlencode({**params, "page": last})}>; rel="last"')
        headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999", "x-ratelimit-resource": "core",
                   "x-ratelimit-reset": str(int(time.time()) + 3600)}
        if links:
            headers["link"] = ", ".join(links)
        return JSONResponse(chunk, headers=headers)

    def snapshot(self) -> dict:
        with self.lock:
            items = [self._issue_json(repo, i) for repo, issues in self.issues.items() for i in issues]
            comments = [self._comment_json(c) for c in self.comments]
        texts = [("issue", i["body"] or "") for i in items] + [("comment", c["body"]) for c in comments]
        return {"items": items, "comments": comments, "texts": [{"kind": k, "text": t} for k, t in texts],
                "requests": dict(self.requests)}


def _since(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
