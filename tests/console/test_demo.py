"""What `triage-tui demo` wires together, tried as a new user would: sandbox, worker, console, keys."""

from __future__ import annotations

import pytest

from tests.console.helpers import screen_text, settle, wait_until
from triage_tui.config import API_KEY_ENV
from triage_tui.console.app import make_app
from triage_tui.console.commands import demo_config
from triage_tui.outbound.dispatcher import dispatch_task
from triage_tui.console.screens.reply import ReplyEditScreen, ReplyReviewScreen
from triage_tui.store.models import ConversationRow, MessageRow, OutboxRow, TicketRow, database


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

        # the lifecycle, as a newcomer sees it: our reply makes the ticket pending and it leaves the queue
        ticket = TicketRow.get(TicketRow.thread_id == reply_to.thread_id)
        assert await wait_until(pilot, lambda: TicketRow.get_by_id(ticket.id).status == "pending", timeout=10)
        assert await wait_until(pilot, lambda: reply_to.key not in {i.key for i in app.screen.table.items})
        sent_id = OutboxRow.get().sent_message_id
        worker.sync_now()  # our reply comes back from the Sent folder as our own mail: it moves nothing
        assert await wait_until(pilot, lambda: MessageRow.select().where(MessageRow.message_id == sent_id).exists(),
                                timeout=15)
        parent = MessageRow.get(MessageRow.message_id == sent_id).rfc_message_id
        assert TicketRow.get_by_id(ticket.id).status == "pending"
        customer = reply_to.sender
        # an out-of-office answer to our reply changes nothing
        sandbox.deliver(subject=f"Automatic reply: {reply_to.subject}", body="Out of office until Monday.",
                        headers={"Auto-Submitted": "auto-replied", "Precedence": "bulk", "In-Reply-To": parent},
                        **{"from": customer})
        worker.sync_now()
        assert await wait_until(pilot, lambda: MessageRow.select().where(MessageRow.kind == "auto_reply",
                                MessageRow.subject.startswith("Automatic reply: ")).count() >= 1, timeout=15)
        assert TicketRow.get_by_id(ticket.id).status == "pending"
        # the customer writing again brings it back into the queue as open
        sandbox.deliver(subject=f"Re: {reply_to.subject}", body="Thanks, but it still fails.",
                        headers={"In-Reply-To": parent}, **{"from": customer})
        worker.sync_now()
        assert await wait_until(pilot, lambda: TicketRow.get_by_id(ticket.id).status == "open", timeout=15)
        assert await wait_until(pilot, lambda: any(i.key == reply_to.key and i.ticket_status == "open"
                                                   for i in app.screen.table.items), timeout=5)
        assert ConversationRow.get_by_id(reply_to.key).message_count >= 3
