"""Fixtures local to the sandbox tests."""

import nylas
import pytest

from tests.sandbox.helpers import Receiver


@pytest.fixture
def empty(make_sandbox):
    """A sandbox with no seeded mail (fast), for tests that deliver their own."""
    return make_sandbox(messages=0)


@pytest.fixture
def client(empty):
    """The official SDK pointed at the empty sandbox."""
    return nylas.Client(empty.api_key, api_uri=empty.api_uri, timeout=10)


@pytest.fixture
def receiver():
    """A webhook destination that echoes the challenge and records deliveries."""
    made = Receiver()
    yield made
    made.close()
