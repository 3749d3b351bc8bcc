"""The sandbox ASGI app: every route, counted, behind the auth and fault gate."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from triage_tui.sandbox import api_accounts, api_admin, api_mail
from triage_tui.sandbox.http import ApiError, Gate, envelope, error_response


def _counted(route: Route, stats) -> Route:
    endpoint, name = route.endpoint, route.name

    async def counted(request: Request) -> Response:
        stats.request(name)
        return await endpoint(request)

    return Route(route.path, counted, methods=list(route.methods or []), name=name)


def build_app(sandbox) -> Gate:
    """The ASGI application serving one sandbox."""

    async def health(request: Request) -> Response:
        return envelope({"status": "ok"})

    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = "route not found" if exc.status_code == 404 else str(exc.detail)
        return error_response(ApiError(exc.status_code, message))

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(ApiError(500, f"sandbox error: {type(exc).__name__}: {exc}"))

    routes = [_counted(r, sandbox.stats) for r in api_mail.routes(sandbox) + api_admin.routes(sandbox)
              + api_accounts.routes(sandbox)]
    routes.append(Route("/health", health, methods=["GET"], name="health"))
    app = Starlette(routes=routes, exception_handlers={
        ApiError: api_error, HTTPException: http_error, Exception: server_error})
    return Gate(app, sandbox)
