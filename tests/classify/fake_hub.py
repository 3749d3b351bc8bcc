"""A stand-in for the model hub on 127.0.0.1: /<repo>/resolve/<revision>/<file>, redirected like the hub."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FakeHub:
    """Serves files from a folder; `altered` names files served with one byte flipped."""

    def __init__(self, folder: Path, repo: str, revision: str) -> None:
        self.folder, self.repo, self.revision = folder, repo, revision
        self.altered: set[str] = set()
        self.requests: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                hub.requests.append(self.path)
                prefix = f"/{hub.repo}/resolve/{hub.revision}/"
                if self.path.startswith(prefix):  # the hub answers with a redirect to its CDN
                    self.send_response(302)
                    self.send_header("Location", "/cdn/" + self.path[len(prefix):])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                name = self.path.removeprefix("/cdn/")
                path = hub.folder / name
                if not self.path.startswith("/cdn/") or not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                if name in hub.altered:
                    data = data[:100] + bytes([data[100] ^ 1]) + data[101:]
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeHub":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
