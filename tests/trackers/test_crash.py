"""SIGKILL a tracker dispatcher during a write, and lose responses: no write lost, none duplicated.

Small counts on SQLite (the code paths are the engine-neutral claims tested on both engines elsewhere):
for every tracker the kill after the HTTP call (landed, not recorded) and the lost response; for GitHub
also the other three crash points. The negative control resends blindly (no look-up, fresh keys) and
must leave duplicates in the fake. Full counts, every point and tracker: `python -m benchmarks.tracker_crash`.
"""

from __future__ import annotations

import pytest

from triage_tui.outbound.tracker_dispatch import POINTS
from triage_tui.store.db import open_url
from triage_tui.store.models import database
from tests.trackers.crash import run_campaign
from tests.trackers.helpers import KINDS, make_config, tracker_settings


@pytest.fixture
def campaign(tmp_path, make_fake):
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    open_url(url)

    def setup(kind):
        fake = make_fake(kind, enforce_limits=False)
        config = make_config(url, trackers={"t": tracker_settings(kind, fake)}, default="t", max_backoff_s=1.0,
                             max_unknown_attempts=50)
        return config, fake

    yield setup
    database.close()
    database.initialize(None)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", KINDS)
def test_a_kill_after_the_write_landed_and_a_lost_response_duplicate_nothing(kind, campaign):
    config, fake = campaign(kind)
    points = POINTS if kind == "github" else ("tracker_after_http",)
    for point in (*points, "lost"):
        run = run_campaign(config, fake, point, runs=1, tickets=2, probability=0.0)
        print(run.row())
        assert run.lost == 0 and run.duplicate_items == 0 and run.duplicate_comments == 0, run
        assert run.kills == (0 if point == "lost" else 1)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", KINDS)
def test_negative_control_resending_blindly_duplicates(kind, campaign):
    config, fake = campaign(kind)
    run = run_campaign(config, fake, "tracker_after_http", runs=1, tickets=2, probability=0.0, blind=True)
    print(run.row())
    assert run.lost == 0 and run.duplicate_items + run.duplicate_comments >= 1, run
