"""/metrics, /healthz and /readyz: routes for the receiver, and a small server for a worker's --metrics-port."""

from __future__ import annotations

import os
import socket
import threading
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from triage_tui.config import Config
from triage_tui.ops.collector import StoreCollector
from triage_tui.ops.health import Readiness
from triage_tui.ops.metrics import CONTENT_TYPE, exposition_registry, render

STARTED = time.time()


def ops_routes(config: Config) -> list[Route]:
    """GET /metrics (Prometheus text), /healthz (alive), /readyz (database at schema, Nylas answers)."""
    registry = exposition_registry(StoreCollector(config))
    readiness = Readiness(config)

    def metrics_page(request: Request) -> Response:  # sync: runs in the thread pool, off the event loop
        return Response(render(registry), media_type=CONTENT_TYPE)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "alive", "pid": os.getpid(), "uptime_s": round(time.time() - STARTED, 1)})

    def readyz(request: Request) -> Response:
        checks = readiness.checks()
        ready = all(c.ok for c in checks)
        body = {"status": "ready" if ready else "not ready",
                "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks}}
        return JSONResponse(body, status_code=200 if ready else 503)

    return [Route("/metrics", metrics_page, methods=["GET"]), Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"])]


class OpsServer:
    """The worker's metrics port: the ops routes under uvicorn in a daemon thread."""

    def __init__(self, config: Config, host: str, port: int) -> None:
        import uvicorn

        self.sock = _listen(host, port)  # OSError here, in the caller, when the port is taken
        self.port = self.sock.getsockname()[1]
        app = Starlette(routes=ops_routes(config))
        self.server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off",
                                                    timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="triage-metrics", daemon=True)

    def start(self) -> "OpsServer":
        """Serve until stop(); returns once requests are accepted."""
        self.thread.start()
        while not self.server.started and self.thread.is_alive():
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock
