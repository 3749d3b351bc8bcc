"""SIGKILL a dispatcher process at each named point: nothing lost, nothing delivered twice.

The negative control sends without a stable Idempotency-Key and must produce duplicates.
"""

import pytest

from triage_tui.outbound.faults import POINTS
from tests.outbound.helpers import make_config
from tests.outbound.scenarios import run_crash_point, write_config


@pytest.fixture
def crash_setup(db, db_url, make_sandbox, tmp_path):
    sandbox = make_sandbox(seed=5, messages=0)
    config = make_config(db_url, api_uri=sandbox.api_uri, grant_id=sandbox.grant_id, email=sandbox.email,
                         daily_cap_per_grant=100_000, per_recipient_per_hour=100)
    return config, sandbox, write_config(tmp_path / "config.toml", config)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("point", POINTS)
def test_kill_at_each_point_loses_nothing_and_sends_once(crash_setup, point):
    config, sandbox, path = crash_setup
    run = run_crash_point(config, sandbox, path, point, runs=1, replies=3, probability=0.5)
    print(run)
    assert run.kills >= 1
    assert run.lost == 0 and run.duplicates == 0 and run.delivered == 3
    if point == "after_http":
        assert run.provider_sends > run.delivered  # the key absorbed the resend after the kill


@pytest.mark.timeout(120)
def test_negative_control_without_the_key_does_duplicate(crash_setup):
    config, sandbox, path = crash_setup
    run = run_crash_point(config, sandbox, path, "after_http", runs=1, replies=3, probability=1.0,
                          keyless=True, max_restarts=3)
    print(run)
    assert run.kills >= 1 and run.duplicates >= 1
