"""The console tells what became of our sends (a bounce in the header, a toast and the thread) and
which inbox is paused, whichever process wrote it."""

from __future__ import annotations

import time

from tests.console.helpers import AGENT, GRANT, SqliteOnly, screen_text, settle, wait_until
from triage_tui.console.screens.thread import ThreadScreen
from triage_tui.domain import Address, DeliveryReport, QueueFilter, Reply
from triage_tui.outbound.approval import approve_reply
from triage_tui.store.control import inbox_pause_key, set_stop_switch
from triage_tui.store.delivery import record_delivery
from triage_tui.store.queue import queue_window


class TestDeliveryAndPause(SqliteOnly):
    async def test_a_bounce_and_an_inbox_pause_show_in_the_header_and_the_thread(self, seeded, config, app_factory):
        item = queue_window(QueueFilter(), limit=1, now=time.time())[0]
        reply = Reply(grant_id=GRANT, reply_to_message_id=item.message_id, to=[Address(email=item.sender)],
                      subject=f"Re: {item.subject}", body="We fixed it.")
        entry = approve_reply(reply, actor="alice", config=config, message_id=item.message_id, grant_id=GRANT)
        app = app_factory(poll_interval_s=0.1)
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            assert "SEND FAILURES" not in screen_text(app)
            # Another process: the worker records the bounce, an operator pauses the inbox.
            record_delivery(GRANT, DeliveryReport(status="bounced", command_result_id=entry.command_result_id,
                                                  message_id="sent-1", detail="NoEmail: 550 user unknown"),
                            now=time.time())
            set_stop_switch(True, actor="bob", reason="bouncing", key=inbox_pause_key(GRANT))
            assert await wait_until(pilot, lambda: "SEND FAILURES 1" in screen_text(app)
                                    and f"PAUSED {AGENT}" in screen_text(app))
            assert any("bounced: Re: " in str(n.message) for n in app._notifications)
            app.open_thread(item)
            assert await wait_until(pilot, lambda: isinstance(app.screen, ThreadScreen))
            assert await wait_until(pilot, lambda: "delivery: BOUNCED" in screen_text(app))
            assert f"PAUSED {AGENT}" in screen_text(app)
