"""Shared benchmark plumbing: a sandbox in its own process, free ports, percentiles."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "bench-key"
GRANT = "bench-grant-0001"
EMAIL = "support@bench.nylas.email"


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 60.0) -> None:
    """Block until something accepts connections on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def child_env(**extra: str) -> dict:
    """The environment for a child process that imports triage_tui from this checkout."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


class SandboxProcess:
    """`triage-tui sandbox` in a child process, so it does not share our CPU time slice or GIL."""

    def __init__(self, messages: int, latency_ms: int = 0, seed: int = 7) -> None:
        self.port = free_port()
        self.api_uri = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "triage_tui.cli", "sandbox", "--port", str(self.port), "--api-key", API_KEY,
             "--grant-id", GRANT, "--email", EMAIL, "--messages", str(messages), "--seed", str(seed),
             "--latency-ms", str(latency_ms)],
            cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        wait_port(self.port, 180)
        self.client = httpx.Client(base_url=self.api_uri, trust_env=False, timeout=60,
                                   headers={"Authorization": f"Bearer {API_KEY}"})

    def set_faults(self, **settings) -> None:
        """Change latency and faults at run time."""
        self.client.post("/admin/faults", json=settings).raise_for_status()

    def truth(self) -> dict:
        """message id -> intended kind/category of the seeded grant."""
        response = self.client.get("/admin/truth")
        response.raise_for_status()
        return response.json()["data"].get(GRANT, {})

    def stop(self) -> None:
        """Stop the child."""
        self.client.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def percentile(values: list[float], share: float) -> float:
    """The share-th percentile (nearest rank) of values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(share * len(ordered) + 0.5)) - 1))
    return ordered[index]


def config_toml(api_uri: str, db_url: str, *, chain: str = '["learned", "rules"]', extra: str = "") -> str:
    """A config file for the benchmark sandbox."""
    return f"""
tenant_id = "bench"
environment = "test"
[nylas]
api_uri = "{api_uri}"
[[inboxes]]
grant_id = "{GRANT}"
email = "{EMAIL}"
workspace_id = "ws-bench"
policy_id = "pol-bench"
[database]
url = "{db_url}"
[classifier]
chain = {chain}
{extra}
"""
