"""What `triage-tui demo` wires together, tried as a new user would: sandbox, worker, console, keys."""

from __future__ import annotations

import pytest

from tests.console.helpers import screen_text, settle, wait_until
from triage_tui.config import API_KEY_ENV
from triage_tui.console.app import make_app
from triage_tui.console.commands import demo_config
from triage_tui.outbound.dispatcher import dispatch_task
from triage_tui.console.screens.reply import ReplyEditScreen, ReplyReviewScreen
from triage_tui.store.models import OutboxRow, TicketRow, database


@pytest.fixture
def demo_parts(make_sandbox, tmp_path, monkeypatch):
    """A live sandbox, the demo config on a fresh database, and the in-process worker with the dispatcher."""
    from triage_tui.ingest.runner import BackgroundWorker
    from triage_tui.store.db import open_database

    sandbox = make_sandbox(seed=7, messages=30)
    monkeypatch.setenv(API_KEY_ENV, sandbox.api_key)
    config = demo_config(sandbox, str(tmp_path))
    db = open_database(config.database)
    worker = BackgroundWorker(config, extra_tasks=[dispatch_task(config, owner="demo-test")])
    worker.start()
    yield config, worker, sandbox
    worker.stop()
    db.close()
    database.initialize(None)


async def test_demo_shows_a_live_queue_and_the_footer_keys_work(demo_parts):
    config, worker, sandbox = demo_parts
    app = make_app(config, worker=worker, open_store=False, poll_interval_s=0.2, operator="newuser")
    async with app.run_test(size=(120, 36)) as pilot:
        assert await wait_until(pilot, lambda: len(app.screen.table.items) > 5, timeout=30)
        assert await wait_until(pilot, lambda: "synced" in screen_text(app) or "syncing" in screen_text(app))
        item = app.screen.table.current
        await pilot.press("a")
        assert await wait_until(pilot, lambda: TicketRow.select().where(
            TicketRow.thread_id == item.thread_id).exists(), timeout=10)
        await settle(pilot)
        reply_to = app.screen.table.current
        await pilot.press("r")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ReplyEditScreen), timeout=10)
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ReplyReviewScreen))
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: OutboxRow.select().count() == 1, timeout=10)
        # the in-process dispatcher sends it to the sandbox
        assert await wait_until(pilot, lambda: OutboxRow.get().state == "sent", timeout=20), OutboxRow.get().state
        assert OutboxRow.get().reply_to_message_id == reply_to.message_id
        assert worker.progress().ingested >= 5
