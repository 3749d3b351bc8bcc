"""Start and stop a fake tracker under uvicorn in a background thread (port 0 picks a free port)."""

from __future__ import annotations

import threading
import time

import httpx
import uvicorn

from triage_tui.sandbox.runner import SandboxStartError, bind

KINDS = ("github", "jira", "linear", "zendesk", "webhook")


def fake_class(kind: str):
    """The fake of one tracker kind."""
    if kind == "github":
        from triage_tui.sandbox.trackers.github import FakeGitHub as cls
    elif kind == "jira":
        from triage_tui.sandbox.trackers.jira import FakeJira as cls
    elif kind == "linear":
        from triage_tui.sandbox.trackers.linear import FakeLinear as cls
    elif kind == "zendesk":
        from triage_tui.sandbox.trackers.zendesk import FakeZendesk as cls
    elif kind == "webhook":
        from triage_tui.sandbox.trackers.webhook import FakeWebhookReceiver as cls
    else:
        raise ValueError(f"no fake tracker of kind {kind!r} (known: {', '.join(KINDS)})")
    return cls


class RunningFake:
    """A live fake tracker: where it listens, its credentials, its state, and how to stop it."""

    def __init__(self, fake, host: str, port: int, server: uvicorn.Server, thread: threading.Thread) -> None:
        self.fake = fake
        self.kind = fake.kind
        self.host = host
        self.port = port
        self._server = server
        self._thread = thread
        self._client = httpx.Client(base_url=self.url, trust_env=False, timeout=30)

    @property
    def url(self) -> str:
        """The base URL (http://127.0.0.1:PORT)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def token(self) -> str:
        """The credential the fake accepts (a whsec_ secret for the webhook receiver)."""
        return self.fake.token

    def set_faults(self, **settings) -> dict:
        """Change latency, limits or the fault script at run time."""
        response = self._client.post("/_fake/faults", json=settings)
        response.raise_for_status()
        return response.json()

    def clear(self) -> None:
        """Forget everything written and every fault (a test reusing this fake starts clean)."""
        self._client.post("/_fake/clear").raise_for_status()

    def state(self) -> dict:
        """What has been written: items, comments, and every text (for counting markers)."""
        response = self._client.get("/_fake/state")
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        """Stop serving."""
        self._client.close()
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> "RunningFake":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_tracker_fake(kind: str, *, host: str = "127.0.0.1", port: int = 0, **options) -> RunningFake:
    """Build the fake, bind, and serve in a daemon thread; returns once it accepts requests."""
    fake = fake_class(kind)(**options)
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    fake.base_url = f"http://{host}:{actual}"
    config = uvicorn.Config(fake.build_app(), log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=2, timeout_keep_alive=30)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"fake-{kind}", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.005)
    if not server.started:
        raise SandboxStartError(f"the fake {kind} tracker stopped during startup")
    return RunningFake(fake, host, actual, server, thread)


def config_snippet(running: RunningFake, name: str | None = None) -> tuple[list[str], list[str]]:
    """(TOML lines for `[trackers.NAME]`, shell lines exporting its secret) to point triage-tui at a fake."""
    name = name or f"sandbox-{running.kind}"
    fake, url = running.fake, running.url
    keys = {
        "github": ([f'api_url = "{url}"', 'repo = "acme/support"'], "GITHUB_TOKEN"),
        "jira": ([f'base_url = "{url}"', f'project_key = "{sorted(getattr(fake, "projects", ["SUP"]))[0]}"',
                  f'email = "{getattr(fake, "email", "")}"'], "JIRA_API_TOKEN"),
        "linear": ([f'api_url = "{url}/graphql"', f'team_id = "{getattr(fake, "team", {}).get("id", "")}"'],
                   "LINEAR_API_KEY"),
        "zendesk": ([f'base_url = "{url}"', f'email = "{getattr(fake, "email", "")}"'], "ZENDESK_API_TOKEN"),
        "webhook": ([f'url = "{url}/hooks/triage"'], "TRIAGE_TUI_TRACKER_WEBHOOK_SECRET"),
    }
    lines, variable = keys[running.kind]
    toml = [f"[trackers.{name}]", f'kind = "{running.kind}"', *lines]
    return toml, [f"export {variable}={running.token}"]


def main(argv: list[str] | None = None) -> None:
    """`python -m triage_tui.sandbox.trackers.runner KIND [--port N] [--latency-ms N] [--time-scale X]`."""
    import argparse
    import json as _json
    import signal

    parser = argparse.ArgumentParser(description="Serve one fake tracker until SIGTERM or Ctrl-C.")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--time-scale", type=float, default=1.0, help="Run the documented rate-limit windows faster.")
    parser.add_argument("--no-limits", action="store_true", help="Do not enforce the documented rate limits.")
    args = parser.parse_args(argv)
    running = start_tracker_fake(args.kind, host=args.host, port=args.port, latency_ms=args.latency_ms,
                                 time_scale=args.time_scale, enforce_limits=not args.no_limits)
    toml, env = config_snippet(running)
    print(_json.dumps({"url": running.url, "token": running.token, "config": toml, "env": env}), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    running.stop()


if __name__ == "__main__":
    main()
