"""Helpers for the ops tests: free ports, waiting for an endpoint, and reading a /metrics page."""

from __future__ import annotations

import os
import shutil
import socket
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float = 30.0, what="condition"):
    """Poll `condition()` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what() if callable(what) else what}"
        time.sleep(0.1)


def get(url: str) -> httpx.Response | None:
    """GET, or None while nothing answers yet."""
    try:
        return httpx.get(url, timeout=5, trust_env=False)
    except httpx.HTTPError:
        return None


def scrape(base: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted label pairs): value} of a /metrics page, parsed by prometheus_client."""
    response = httpx.get(f"{base}/metrics", timeout=10, trust_env=False)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    """One sample's value (0 when the series does not exist yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: dict, name: str, **labels) -> float:
    """The sum of every sample of `name` whose labels include `labels`."""
    return sum(v for (n, pairs), v in samples.items()
               if n == name and all(dict(pairs).get(k) == w for k, w in labels.items()))


def required_tool(name: str, package: str) -> str:
    """The path of a command-line tool; skipped where it is missing, but a failure in CI (CI=true)."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing in CI: .ci/run installs Debian's {package} package")
        pytest.skip(f"{name} not installed (apt-get install {package})")
    return found
