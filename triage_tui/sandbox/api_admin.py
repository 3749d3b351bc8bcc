"""Application-scoped routes: workspaces, policies, rules, lists, webhooks, and /admin."""

from __future__ import annotations

import base64
import binascii
import secrets
import time

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from triage_tui.sandbox.faults import FaultError
from triage_tui.sandbox.guardrails import GuardrailError
from triage_tui.sandbox.http import ApiError, envelope, json_body
from triage_tui.sandbox.mailbox import MailRecord, record_from_parsed
from triage_tui.sandbox.state import grouped_truth
from triage_tui.sandbox.webhooks import WebhookError, new_destination, validate


def _lookup(table: dict, key: str, what: str) -> dict:
    if key not in table:
        raise ApiError(404, f"{what} {key} not found")
    return table[key]


def _people(value) -> list[tuple[str, str]]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append((str(item.get("name") or ""), str(item.get("email") or "")))
        else:
            out.append(("", str(item)))
    return out


def structured_record(body: dict) -> MailRecord:
    """A MailRecord from the structured /admin/inbound form."""
    sender = _people(body.get("from"))
    if not sender or "@" not in sender[0][1]:
        raise ApiError(400, "from must be an email address or {name, email}")
    headers = body.get("headers") or {}
    if not isinstance(headers, dict):
        raise ApiError(400, "headers must be an object of name: value")
    text = str(body.get("body") or "")
    record = MailRecord(
        subject=str(body.get("subject") or ""), from_=sender, to=_people(body.get("to")),
        cc=_people(body.get("cc")), reply_to=_people(body.get("reply_to")),
        headers=[(str(k), str(v)) for k, v in headers.items()], body=text,
        snippet=" ".join(text.split())[:100],
    )
    lowered = {k.lower(): v for k, v in record.headers}
    standard = [("From", ", ".join(e for _, e in record.from_)),
                ("To", ", ".join(e for _, e in record.to)), ("Subject", record.subject)]
    record.headers = [(k, v) for k, v in standard if k.lower() not in lowered] + record.headers
    record.message_id = lowered.get("message-id", "")
    record.in_reply_to = lowered.get("in-reply-to", "")
    record.references = lowered.get("references", "").split()
    return record


def routes(sb) -> list[Route]:
    """The application-scoped and admin routes bound to one sandbox."""
    gr = sb.guardrails

    def guarded(fn):
        try:
            with sb.lock:
                return fn()
        except GuardrailError as exc:
            raise ApiError(400, str(exc)) from None

    def resource_routes(kind: str, plural: str, items: dict, create, update, delete) -> list[Route]:
        """List, create, and GET/PUT/DELETE one: the same shape for workspaces, policies and rules."""
        param = f"{kind}_id"

        async def list_all(request: Request) -> Response:
            with sb.lock:
                return envelope(list(items.values()))

        async def create_one(request: Request) -> Response:
            body = await json_body(request)
            return envelope(guarded(lambda: create(body)))

        async def one(request: Request) -> Response:
            item_id = request.path_params[param]
            with sb.lock:
                _lookup(items, item_id, kind)
                if request.method == "DELETE":
                    delete(item_id)
                    return envelope({"status": "success"})
                if request.method == "GET":
                    return envelope(items[item_id])
            body = await json_body(request)
            return envelope(guarded(lambda: update(item_id, body)))

        return [
            Route(f"/v3/{plural}", list_all, methods=["GET"], name=f"{plural}.list"),
            Route(f"/v3/{plural}", create_one, methods=["POST"], name=f"{plural}.create"),
            Route(f"/v3/{plural}/{{{param}}}", one, methods=["GET", "PUT", "PATCH", "DELETE"], name=f"{plural}.one"),
        ]

    async def list_lists(request: Request) -> Response:
        with sb.lock:
            return envelope(list(gr.lists.values()))

    async def create_list(request: Request) -> Response:
        body = await json_body(request)
        return envelope(guarded(lambda: gr.create_list(body)))

    async def one_list(request: Request) -> Response:
        lid = request.path_params["list_id"]
        with sb.lock:
            lst = _lookup(gr.lists, lid, "list")
            if request.method == "DELETE":
                del gr.lists[lid]
                del gr.list_items[lid]
                return envelope({"status": "success"})
            if request.method == "GET":
                return envelope(lst)
        body = await json_body(request)
        with sb.lock:
            lst.update({k: str(body[k]) for k in ("name", "description") if k in body},
                       updated_at=int(time.time()))
            return envelope(lst)

    async def list_items(request: Request) -> Response:
        lid = request.path_params["list_id"]
        with sb.lock:
            _lookup(gr.lists, lid, "list")
            if request.method == "GET":
                return envelope(list(gr.list_items[lid]))
        body = await json_body(request)
        if request.method == "POST":
            return envelope(guarded(lambda: gr.add_items(lid, body.get("items"))))
        return envelope(guarded(lambda: gr.remove_items(lid, body.get("items"))))

    async def list_webhooks(request: Request) -> Response:
        with sb.lock:
            return envelope([sb.public_webhook(i) for i in sb.webhooks])

    async def create_webhook(request: Request) -> Response:
        body = await json_body(request)
        try:
            dest = new_destination(validate(body, partial=False))
        except WebhookError as exc:
            raise ApiError(400, str(exc)) from None
        if not await _challenge(dest["webhook_url"]):
            raise ApiError(400, f"webhook_url {dest['webhook_url']} did not echo the challenge")
        dest["status"] = "active"
        with sb.lock:
            sb.webhooks[dest["id"]] = dest
        return envelope(sb.public_webhook(dest["id"], with_secret=True))

    async def _challenge(url: str) -> bool:
        challenge = secrets.token_urlsafe(24)
        try:
            async with httpx.AsyncClient(timeout=sb.options.challenge_timeout_s,
                                         trust_env=False) as client:
                response = await client.get(url, params={"challenge": challenge})
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and response.content == challenge.encode()

    async def one_webhook(request: Request) -> Response:
        wid = request.path_params["webhook_id"]
        with sb.lock:
            dest = _lookup(sb.webhooks, wid, "webhook")
            if request.method == "DELETE":
                del sb.webhooks[wid]
                return envelope({"status": "success"})
            if request.method == "GET":
                return envelope(sb.public_webhook(wid))
        body = await json_body(request)
        try:
            clean = validate(body, partial=True)
        except WebhookError as exc:
            raise ApiError(400, str(exc)) from None
        now = int(time.time())
        with sb.lock:
            if "status" in clean and clean["status"] != dest["status"]:
                clean["status_updated_at"] = now
            dest.update(clean, updated_at=now)
            return envelope(sb.public_webhook(wid))

    async def rotate_secret(request: Request) -> Response:
        wid = request.path_params["webhook_id"]
        with sb.lock:
            dest = _lookup(sb.webhooks, wid, "webhook")
            dest["webhook_secret"] = new_destination({})["webhook_secret"]
            dest["updated_at"] = int(time.time())
            return envelope(sb.public_webhook(wid, with_secret=True))

    async def ip_addresses(request: Request) -> Response:
        return envelope({"ip_addresses": ["127.0.0.1"], "updated_at": int(time.time())})

    async def admin_faults(request: Request) -> Response:
        if request.method == "POST":
            body = await json_body(request)
            try:
                sb.faults.update(body)
            except FaultError as exc:
                raise ApiError(400, str(exc)) from None
        return envelope(sb.faults.as_dict())

    async def admin_inbound(request: Request) -> Response:
        body = await json_body(request)
        grant = sb.grant(str(body.get("grant_id") or sb.options.grant_ids[0]))
        if grant is None:
            raise ApiError(404, f"grant {body.get('grant_id')} not found")
        if body.get("raw_mime_b64"):
            from triage_tui.sandbox.mime import MimeError, parse_mime

            try:
                parsed = parse_mime(base64.b64decode(body["raw_mime_b64"], validate=True))
            except (binascii.Error, ValueError, MimeError) as exc:
                raise ApiError(400, f"raw_mime_b64 is not a mail: {exc}") from None
            record = record_from_parsed(parsed)
        else:
            record = structured_record(body)
        truth = body.get("truth") if isinstance(body.get("truth"), dict) else None
        received_at = body.get("received_at")
        if received_at is not None and not isinstance(received_at, int):
            raise ApiError(400, "received_at must be unix seconds")
        return envelope(sb.deliver(grant["id"], record, received_at, truth))

    async def admin_stats(request: Request) -> Response:
        stats = sb.stats.as_dict()
        with sb.lock:
            stats["messages"] = {g: len(b.messages) for g, b in sb.mailboxes.items()}
            stats["threads"] = {g: len(b.threads) for g, b in sb.mailboxes.items()}
            stats["import_skipped"] = [list(s) for s in sb.import_skipped]
        stats["webhooks_idle"] = sb.deliverer.idle()
        return envelope(stats)

    async def admin_truth(request: Request) -> Response:
        return envelope(grouped_truth(sb))

    one = ["GET", "PUT", "PATCH", "DELETE"]
    return [
        *resource_routes("workspace", "workspaces", gr.workspaces, gr.create_workspace, gr.update_workspace,
                         gr.workspaces.__delitem__),
        *resource_routes("policy", "policies", gr.policies, gr.create_policy, gr.update_policy,
                         gr.policies.__delitem__),
        *resource_routes("rule", "rules", gr.rules, gr.create_rule, gr.update_rule, gr.delete_rule),
        Route("/v3/lists", list_lists, methods=["GET"], name="lists.list"),
        Route("/v3/lists", create_list, methods=["POST"], name="lists.create"),
        Route("/v3/lists/{list_id}", one_list, methods=one, name="lists.one"),
        Route("/v3/lists/{list_id}/items", list_items, methods=["GET", "POST", "DELETE"],
              name="lists.items"),
        Route("/v3/webhooks", list_webhooks, methods=["GET"], name="webhooks.list"),
        Route("/v3/webhooks", create_webhook, methods=["POST"], name="webhooks.create"),
        Route("/v3/webhooks/ip-addresses", ip_addresses, methods=["GET"], name="webhooks.ips"),
        Route("/v3/webhooks/rotate-secret/{webhook_id}", rotate_secret, methods=["POST", "PUT"],
              name="webhooks.rotate"),
        Route("/v3/webhooks/{webhook_id}/rotate-secret", rotate_secret, methods=["POST", "PUT"],
              name="webhooks.rotate"),
        Route("/v3/webhooks/{webhook_id}", one_webhook, methods=["GET", "PUT", "DELETE"],
              name="webhooks.one"),
        Route("/admin/faults", admin_faults, methods=["GET", "POST"], name="admin.faults"),
        Route("/admin/inbound", admin_inbound, methods=["POST"], name="admin.inbound"),
        Route("/admin/stats", admin_stats, methods=["GET"], name="admin.stats"),
        Route("/admin/truth", admin_truth, methods=["GET"], name="admin.truth"),
    ]
