"""Outbound fixtures: a sandbox-backed config and a real gateway over HTTP."""

import pytest

from triage_tui.nylas.gateway import Gateway
from tests.outbound.helpers import make_config


@pytest.fixture
def outbound(db, db_url, make_sandbox):
    """(config, gateway, sandbox): an empty sandbox mailbox, one inbox on its grant, the real gateway."""
    sandbox = make_sandbox(seed=7, messages=0)
    config = make_config(db_url, api_uri=sandbox.api_uri, grant_id=sandbox.grant_id, email=sandbox.email)
    return config, Gateway(config.nylas, sandbox.api_key), sandbox
