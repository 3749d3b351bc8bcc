"""Grant-scoped routes: grants, messages, send, threads, folders, rule evaluations."""

from __future__ import annotations

import asyncio
import json
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from triage_tui.sandbox.http import (ApiError, bool_param, dumps, envelope, error_body,
                                     int_param, json_body, limit_param, raw_envelope, request_id)
from triage_tui.sandbox.mailbox import MailboxError, decode_cursor, encode_cursor
from triage_tui.sandbox.sending import MAX_KEY_LENGTH, IdempotencyCache, SendError, build_sent

FIELDS = {"standard", "include_headers", "include_basic_headers"}


def _grant(sb, request: Request) -> dict:
    grant = sb.grant(request.path_params["grant_id"])
    if grant is None:
        raise ApiError(404, f"grant {request.path_params['grant_id']} not found")
    return grant


def _match_messages(request: Request):
    """A predicate for the list filters of GET /messages."""
    q = request.query_params
    after = int_param(request, "received_after")
    before = int_param(request, "received_before")
    unread = bool_param(request, "unread")
    starred = bool_param(request, "starred")
    has_attachment = bool_param(request, "has_attachment")
    folder = q.get("in") or None
    thread_id = q.get("thread_id") or None
    subject = (q.get("subject") or "").lower() or None
    any_email = {e.strip().lower() for e in ",".join(q.getlist("any_email")).split(",") if e.strip()}
    if len(any_email) > 25:
        raise ApiError(400, "any_email accepts at most 25 addresses")
    roles = {}
    for role in ("from", "to", "cc", "bcc"):
        if q.get(role):
            roles["from_" if role == "from" else role] = q[role].strip().lower()

    def match(msg) -> bool:
        if after is not None and msg.date < after:
            return False
        if before is not None and msg.date > before:
            return False
        if unread is not None and msg.unread != unread:
            return False
        if starred is not None and msg.starred != starred:
            return False
        if folder is not None and folder not in msg.folders:
            return False
        if thread_id is not None and msg.thread_id != thread_id:
            return False
        if has_attachment is not None and bool(msg.record.attachments) != has_attachment:
            return False
        if subject is not None and subject not in msg.record.subject.lower():
            return False
        if any_email and not (any_email & msg.addresses):
            return False
        for role, email in roles.items():
            if email not in {e.lower() for _, e in getattr(msg.record, role)}:
                return False
        return True

    return match


def _fields(request: Request) -> str:
    fields = request.query_params.get("fields") or "standard"
    if fields not in FIELDS:
        raise ApiError(400, f"fields must be one of {', '.join(sorted(FIELDS))}")
    return fields


def routes(sb) -> list[Route]:
    """The grant-scoped routes bound to one sandbox."""

    async def get_grant(request: Request) -> Response:
        return envelope(_grant(sb, request))

    async def list_grants(request: Request) -> Response:
        limit = int_param(request, "limit", 10)
        offset = int_param(request, "offset", 0)
        if not 1 <= limit <= 200 or offset < 0:
            raise ApiError(400, "limit must be between 1 and 200 and offset must not be negative")
        wanted = {k: request.query_params[k] for k in ("provider", "grant_status", "workspace_id")
                  if request.query_params.get(k)}
        email = (request.query_params.get("email") or "").lower()
        with sb.lock:
            grants = [g for g in sb.grants.values()
                      if all(g.get(k) == v for k, v in wanted.items())
                      and (not email or g["email"].lower() == email)]
        return envelope(grants[offset:offset + limit])

    async def list_messages(request: Request) -> Response:
        grant = _grant(sb, request)
        limit = limit_param(request, 50, 200)
        fields = _fields(request)
        match = _match_messages(request)
        with sb.lock:
            try:
                page, cursor = sb.mailboxes[grant["id"]].page(
                    match, limit, request.query_params.get("page_token"))
            except MailboxError as exc:
                raise ApiError(400, str(exc)) from None
            data = b"[" + b",".join(m.json_for(fields) for m in page) + b"]"
        return raw_envelope(data, cursor)

    async def find_message(request: Request) -> Response:
        grant = _grant(sb, request)
        mid = request.path_params["message_id"]
        fields = _fields(request)
        if sb.faults.churn(grant["id"], mid):
            sb.stats.fault("id_churn")
            raise ApiError(404, f"message {mid} not found")
        with sb.lock:
            msg = sb.mailboxes[grant["id"]].messages.get(mid)
            if msg is None:
                raise ApiError(404, f"message {mid} not found")
            return raw_envelope(msg.json_for(fields))

    async def update_message(request: Request) -> Response:
        grant = _grant(sb, request)
        body = await json_body(request)
        mid = request.path_params["message_id"]
        with sb.lock:
            box = sb.mailboxes[grant["id"]]
            if mid not in box.messages:
                raise ApiError(404, f"message {mid} not found")
            try:
                msg = box.update(mid, body)
            except MailboxError as exc:
                raise ApiError(400, str(exc)) from None
            data = msg.to_dict()
        sb.notify("message.updated", data)
        return envelope(data)

    async def delete_message(request: Request) -> Response:
        grant = _grant(sb, request)
        mid = request.path_params["message_id"]
        with sb.lock:
            box = sb.mailboxes[grant["id"]]
            if mid not in box.messages:
                raise ApiError(404, f"message {mid} not found")
            box.update(mid, {"folders": ["TRASH"]})
        return envelope({"status": "success"})

    async def send_message(request: Request) -> Response:
        grant = _grant(sb, request)
        raw = await request.body()
        key = request.headers.get("idempotency-key")
        if key is None:
            status, body = await _send(grant, raw)
            return Response(body, status, media_type="application/json")
        if len(key) > MAX_KEY_LENGTH or not key:
            raise ApiError(400, "Idempotency-Key must be 1 to 256 characters",
                           "api.invalid_idempotency_key")
        outcome, cached = sb.idempotency.begin(grant["id"], key, IdempotencyCache.fingerprint(raw))
        if outcome == "conflict":
            raise ApiError(409, "Idempotency-Key reused with a different request payload",
                           "api.invalid_idempotent_request")
        if outcome == "in_flight":
            raise ApiError(409, "A request with this Idempotency-Key is still in progress",
                           "api.concurrent_idempotent_request")
        if outcome == "replay":
            return Response(cached[1], cached[0], media_type="application/json",
                            headers={"Idempotent-Response": "true"})
        try:
            status, body = await _send(grant, raw)
        except BaseException:
            sb.idempotency.abandon(grant["id"], key)
            raise
        sb.idempotency.finish(grant["id"], key, status, body)
        return Response(body, status, media_type="application/json")

    async def _send(grant: dict, raw: bytes) -> tuple[int, bytes]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, error_body(400, "error parsing request body: not valid JSON")
        if sb.faults.send_delay_ms:
            await asyncio.sleep(sb.faults.send_delay_ms / 1000)
        with sb.lock:
            box = sb.mailboxes[grant["id"]]
            try:
                record, original_id = build_sent(box, body)
            except SendError as exc:
                return exc.status, error_body(exc.status, str(exc), exc.kind)
            recipients = [e for _, e in record.to + record.cc + record.bcc]
            blocking = sb.guardrails.blocks_outbound(
                grant["workspace_id"], recipients, "reply" if original_id else "compose")
            if blocking:
                return 403, error_body(403, f"send blocked by outbound rule {blocking[0]}")
            # A queued send that will fail is answered 202 and stays in Drafts (Nylas, 2026-10-09).
            queued_to_fail = sb.delivery.fails(recipients)
            msg = box.add(record, int(time.time()), ["DRAFTS" if queued_to_fail else "SENT"], unread=False)
            metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
            if metadata:
                msg.metadata = {str(k): str(v) for k, v in metadata.items()}
                msg.refresh_json()
            if not queued_to_fail:
                sb.stats.sent(grant["id"])
            data = msg.to_dict()
        if not queued_to_fail:
            sb.notify("message.created", data, source="/nylas/send")
        sb.sent(grant["id"], data, metadata)
        status = 202 if queued_to_fail else 200
        return status, dumps({"request_id": request_id(), "grant_id": grant["id"], "data": data})

    async def list_threads(request: Request) -> Response:
        grant = _grant(sb, request)
        limit = limit_param(request, 20, 50)
        q = request.query_params
        folder = q.get("in") or None
        unread = bool_param(request, "unread")
        after = int_param(request, "latest_message_after")
        before = int_param(request, "latest_message_before")
        any_email = {e.strip().lower() for e in (q.get("any_email") or "").split(",") if e.strip()}
        start = None
        if q.get("page_token"):
            try:
                start = decode_cursor(q["page_token"])
            except MailboxError as exc:
                raise ApiError(400, str(exc)) from None
        with sb.lock:
            box = sb.mailboxes[grant["id"]]
            keyed = sorted(((box.thread_key(t), t) for t in box.threads.values()),
                           key=lambda kt: kt[0], reverse=True)
            page, more = [], False
            for key, thread in keyed:
                if start is not None and key >= start:
                    continue
                msgs = [box.messages[m] for m in thread.message_ids]
                if folder and not any(folder in m.folders for m in msgs):
                    continue
                if unread is not None and any(m.unread for m in msgs) != unread:
                    continue
                if after is not None and key[0] < after:
                    continue
                if before is not None and key[0] > before:
                    continue
                if any_email and not any(any_email & m.addresses for m in msgs):
                    continue
                if len(page) == limit:
                    more = True
                    break
                page.append((key, box.thread_dict(thread)))
        cursor = encode_cursor(page[-1][0]) if more else None
        return envelope([t for _, t in page], cursor)

    async def find_thread(request: Request) -> Response:
        grant = _grant(sb, request)
        tid = request.path_params["thread_id"]
        with sb.lock:
            box = sb.mailboxes[grant["id"]]
            thread = box.threads.get(tid)
            if thread is None:
                raise ApiError(404, f"thread {tid} not found")
            return envelope(box.thread_dict(thread))

    async def list_folders(request: Request) -> Response:
        grant = _grant(sb, request)
        with sb.lock:
            return envelope(sb.mailboxes[grant["id"]].folder_dicts())

    async def find_folder(request: Request) -> Response:
        grant = _grant(sb, request)
        fid = request.path_params["folder_id"]
        with sb.lock:
            for folder in sb.mailboxes[grant["id"]].folder_dicts():
                if folder["id"] == fid:
                    return envelope(folder)
        raise ApiError(404, f"folder {fid} not found")

    async def rule_evaluations(request: Request) -> Response:
        grant = _grant(sb, request)
        limit = limit_param(request, 50, 200)
        offset = 0
        if request.query_params.get("page_token"):
            try:
                offset = int(request.query_params["page_token"])
            except ValueError:
                raise ApiError(400, "invalid page_token") from None
        with sb.lock:
            entries = list(reversed(sb.guardrails.evaluations.get(grant["id"], [])))
        page = entries[offset:offset + limit]
        cursor = str(offset + limit) if offset + limit < len(entries) else None
        return envelope(page, cursor)

    g = "/v3/grants/{grant_id}"
    return [
        Route("/v3/grants", list_grants, methods=["GET"], name="grants.list"),
        Route(g, get_grant, methods=["GET"], name="grants.find"),
        Route(g + "/messages", list_messages, methods=["GET"], name="messages.list"),
        Route(g + "/messages/send", send_message, methods=["POST"], name="messages.send"),
        Route(g + "/messages/{message_id}", find_message, methods=["GET"], name="messages.find"),
        Route(g + "/messages/{message_id}", update_message, methods=["PUT"],
              name="messages.update"),
        Route(g + "/messages/{message_id}", delete_message, methods=["DELETE"],
              name="messages.delete"),
        Route(g + "/threads", list_threads, methods=["GET"], name="threads.list"),
        Route(g + "/threads/{thread_id}", find_thread, methods=["GET"], name="threads.find"),
        Route(g + "/folders", list_folders, methods=["GET"], name="folders.list"),
        Route(g + "/folders/{folder_id}", find_folder, methods=["GET"], name="folders.find"),
        Route(g + "/rule-evaluations", rule_evaluations, methods=["GET"],
              name="rule_evaluations.list"),
    ]

