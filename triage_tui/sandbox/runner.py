"""Start and stop a sandbox under uvicorn in a background thread (port 0 picks a free port)."""

from __future__ import annotations

import random
import socket
import sys
import threading
import time

import httpx
import uvicorn

from triage_tui.sandbox.app import build_app
from triage_tui.sandbox.state import Sandbox, SandboxOptions, load_initial_mail


class SandboxStartError(RuntimeError):
    """The sandbox could not start (port taken, bad import path...)."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or SandboxStartError naming the address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY then (else 40 ms delayed ACKs).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SandboxStartError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


FOLLOW_UP_SHARE = 0.5  # of drip ticks that answer a reply we sent, when there is one


def drip_loop(sandbox: Sandbox, per_minute: float, stop: threading.Event) -> None:
    """Deliver generated inbound mail at about `per_minute` until stopped; customers answer our replies."""
    from triage_tui.sandbox.follow_ups import answer_a_reply
    from triage_tui.sandbox.mailbox import record_from_parsed
    from triage_tui.sandbox.mime import parse_mime
    from triage_tui.sandbox.seed import drip_mail

    rng = random.Random(sandbox.options.seed * 7919 + 1)
    answers, answered = random.Random(sandbox.options.seed * 7919 + 2), set()
    grant_id = sandbox.options.grant_ids[0]
    email = sandbox.grants[grant_id]["email"]
    while not stop.wait(60.0 / per_minute):
        if answers.random() < FOLLOW_UP_SHARE and answer_a_reply(sandbox, grant_id, answers, answered,
                                                                  now=int(time.time())):
            continue  # a customer answered one of our replies instead
        try:
            mail = drip_mail(rng, agent_email=email, now=int(time.time()))
            record = record_from_parsed(parse_mime(mail.raw))
        except Exception as exc:  # a generator bug must not stop the demo's mail
            print(f"sandbox drip: skipped one mail: {exc!r}", file=sys.stderr)
            continue
        if grant_id not in sandbox.grants:  # the account was deleted through the API
            return
        sandbox.deliver(grant_id, record, int(time.time()),
                        {"category": mail.category, "urgency": mail.urgency, "kind": mail.kind})


class RunningSandbox:
    """A live sandbox: where it listens, how to talk to it, and how to stop it."""

    def __init__(self, sandbox: Sandbox, host: str, port: int, server: uvicorn.Server,
                 thread: threading.Thread, stop_drip: threading.Event) -> None:
        self.sandbox = sandbox
        self.host = host
        self.port = port
        self.api_key = sandbox.api_key
        self.grant_ids = list(sandbox.options.grant_ids)
        self.grant_id = self.grant_ids[0]
        self.email = sandbox.grants[self.grant_id]["email"]
        self._server = server
        self._thread = thread
        self._stop_drip = stop_drip
        self._client = httpx.Client(base_url=self.api_uri, trust_env=False, timeout=30,
                                    headers={"Authorization": f"Bearer {self.api_key}"})

    @property
    def api_uri(self) -> str:
        """The base URI to give the SDK (no /v3)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def admin(self, method: str, path: str, json=None, headers: dict | None = None) -> httpx.Response:
        """One authenticated HTTP call to the sandbox."""
        return self._client.request(method, path, json=json, headers=headers)

    def _data(self, method: str, path: str, json=None):
        response = self.admin(method, path, json)
        response.raise_for_status()
        return response.json()["data"]

    def set_faults(self, **settings) -> dict:
        """Change fault injection at run time (see faults.ALL_KEYS)."""
        return self._data("POST", "/admin/faults", settings)

    def deliver(self, grant_id: str | None = None, **mail) -> dict:
        """New inbound mail; returns {id, thread_id, blocked, folders, matched_rule_ids}.

        Either raw_mime_b64=... or structured fields: from_ (or "from"), to, cc, reply_to,
        subject, body, headers={name: value}, received_at, truth={category, urgency}.
        """
        if "from_" in mail:
            mail["from"] = mail.pop("from_")
        return self._data("POST", "/admin/inbound", {"grant_id": grant_id or self.grant_id, **mail})

    def set_delivery(self, **settings) -> dict:
        """Change delivery-status behaviour (bounce_domains=[...], delay_s=[lo, hi], ...)."""
        return self._data("POST", "/admin/delivery", settings)

    def keys(self, *, issue: list[str] = (), revoke: list[str] = ()) -> list[str]:
        """Issue or revoke API keys; returns the keys /v3 accepts now."""
        return self._data("POST", "/admin/keys", {"issue": list(issue), "revoke": list(revoke)})["active"]

    def stats(self) -> dict:
        """Requests by route, sends delivered per grant, webhook attempts."""
        return self._data("GET", "/admin/stats")

    def truth(self, grant_id: str | None = None) -> dict:
        """Intended category/urgency per message id of one grant."""
        return self._data("GET", "/admin/truth").get(grant_id or self.grant_id, {})

    def sent(self, grant_id: str | None = None) -> list[dict]:
        """Every message in the grant's Sent folder, newest first."""
        grant_id = grant_id or self.grant_id
        out, token = [], None
        while True:
            params = "?in=SENT&limit=200" + (f"&page_token={token}" if token else "")
            body = self.admin("GET", f"/v3/grants/{grant_id}/messages{params}").json()
            out += body["data"]
            token = body.get("next_cursor")
            if not token:
                return out

    def wait_webhooks_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no webhook delivery is queued or in progress."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sandbox.deliverer.idle():
                return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        """Stop serving and background threads."""
        self._stop_drip.set()
        self._client.close()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.sandbox.close()

    def __enter__(self) -> "RunningSandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_sandbox(options: SandboxOptions | None = None, *, host: str = "127.0.0.1",
                  port: int = 0, drip_per_min: float = 0) -> RunningSandbox:
    """Build the state, bind, and serve in a daemon thread; returns once it accepts requests."""
    options = options or SandboxOptions()
    sock = bind(host, port)
    sandbox = Sandbox(options)
    try:
        load_initial_mail(sandbox)
    except BaseException:
        sock.close()
        sandbox.close()
        raise
    config = uvicorn.Config(build_app(sandbox), log_level="warning", access_log=False, log_config=None,
                            lifespan="off", timeout_graceful_shutdown=2,
                            timeout_keep_alive=30)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="sandbox-http", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.005)
    if not server.started:
        sandbox.close()
        raise SandboxStartError("the sandbox server stopped during startup")
    stop_drip = threading.Event()
    if drip_per_min > 0:
        threading.Thread(target=drip_loop, args=(sandbox, drip_per_min, stop_drip),
                         name="sandbox-drip", daemon=True).start()
    return RunningSandbox(sandbox, host, sock.getsockname()[1], server, thread, stop_drip)
