"""The demo on the embed classifier, as a new user with the extra and the weights would see it."""

from __future__ import annotations

import json

import pytest

from tests.console.helpers import screen_text, wait_until
from triage_tui.config import API_KEY_ENV
from triage_tui.console.app import make_app
from triage_tui.console.commands import demo_config
from triage_tui.store.models import SuggestionRow, database


@pytest.fixture
def demo_worker(embed_on, make_sandbox, tmp_path, monkeypatch):
    """The demo's sandbox, config and in-process worker, with nothing configured for embed."""
    from triage_tui.ingest.runner import BackgroundWorker
    from triage_tui.store.db import open_database

    sandbox = make_sandbox(seed=7, messages=12)
    monkeypatch.setenv(API_KEY_ENV, sandbox.api_key)
    config = demo_config(sandbox, str(tmp_path))
    db = open_database(config.database)
    worker = BackgroundWorker(config)
    worker.start()
    yield config, worker
    worker.stop()
    db.close()
    database.initialize(None)


async def test_the_demo_runs_on_embed_with_the_shipped_examples(demo_worker) -> None:
    config, worker = demo_worker
    app = make_app(config, worker=worker, open_store=False, poll_interval_s=0.2, operator="newuser")
    async with app.run_test(size=(160, 36)) as pilot:
        assert await wait_until(pilot, lambda: "classifier embed" in screen_text(app), timeout=60)
        assert await wait_until(pilot, lambda: worker.progress().ingested >= 8, timeout=60)
    versions = {row.classification_version for row in SuggestionRow.select()}
    assert versions and all(v.startswith(("embed-proto-", "rules-")) for v in versions), versions
    reasons = " ".join(" ".join(json.loads(row.reasons)) for row in SuggestionRow.select())
    assert "embed prototypes (48 ruleset examples)" in reasons
