"""Agent Account lifecycle routes (create, delete, move between workspaces) and their admin knobs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from triage_tui.sandbox.accounts import AccountError
from triage_tui.sandbox.delivery import DeliveryError
from triage_tui.sandbox.http import ApiError, envelope, json_body


def _grant_ids(body: dict, key: str) -> list[str]:
    value = body.get(key) or []
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise ApiError(400, f"{key} must be a list of grant ids")
    if len(value) > 500:
        raise ApiError(400, f"{key} accepts at most 500 grant ids")
    return value


def _strings(body: dict, key: str) -> list[str]:
    value = body.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(k, str) and k for k in value):
        raise ApiError(400, f"{key} must be a list of non-empty strings")
    return value


def routes(sb) -> list[Route]:
    """The account routes bound to one sandbox."""

    async def connect_custom(request: Request) -> Response:
        body = await json_body(request)
        try:
            grant, _created = sb.create_agent_account(body)
        except AccountError as exc:
            raise ApiError(exc.status, str(exc)) from None
        return envelope(grant)

    async def delete_grant(request: Request) -> Response:
        grant = sb.grant(request.path_params["grant_id"])
        if grant is None:
            raise ApiError(404, f"grant {request.path_params['grant_id']} not found")
        sb.delete_grant(grant["id"])
        return envelope({"status": "success"})

    async def manual_assign(request: Request) -> Response:
        ws_id = request.path_params["workspace_id"]
        body = await json_body(request)
        assign, remove = _grant_ids(body, "assign_grants"), _grant_ids(body, "remove_grants")
        if not assign and not remove:
            raise ApiError(400, "assign_grants or remove_grants must name at least one grant")
        with sb.lock:
            ws = sb.guardrails.workspaces.get(ws_id) or next(
                (w for w in sb.guardrails.workspaces.values() if w["domain"] and w["domain"] == ws_id), None)
            if ws is None:
                raise ApiError(404, f"workspace {ws_id} not found")
            return envelope(sb.assign_grants(ws["workspace_id"], assign, remove))

    async def admin_keys(request: Request) -> Response:
        issue, revoke = [], []
        if request.method == "POST":
            body = await json_body(request)
            issue, revoke = _strings(body, "issue"), _strings(body, "revoke")
        return envelope({"active": sb.set_keys(issue, revoke)})

    async def admin_delivery(request: Request) -> Response:
        if request.method == "POST":
            try:
                sb.delivery.update(await json_body(request))
            except DeliveryError as exc:
                raise ApiError(400, str(exc)) from None
        return envelope(sb.delivery.as_dict())

    return [
        Route("/v3/connect/custom", connect_custom, methods=["POST"], name="connect.custom"),
        Route("/v3/grants/{grant_id}", delete_grant, methods=["DELETE"], name="grants.delete"),
        Route("/v3/workspaces/{workspace_id}/manual-assign", manual_assign, methods=["POST"],
              name="workspaces.manual_assign"),
        Route("/admin/keys", admin_keys, methods=["GET", "POST"], name="admin.keys"),
        Route("/admin/delivery", admin_delivery, methods=["GET", "POST"], name="admin.delivery"),
    ]
