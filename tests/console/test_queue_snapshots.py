"""The conversation queue at three terminal sizes: the subject keeps priority, other columns give way.

Each snapshot waits for a defined state (window painted, count and header figures in), never a delay.
Update after a deliberate UI change with `pytest tests/console/test_queue_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.console.helpers import AGENT, FIXED_NOW, GRANT, prepared, scope, seed, settle, wait_until
from triage_tui.domain import Address, Header, MailSignals
from triage_tui.store.db import write_transaction
from triage_tui.store.decisions import approve_ticket
from triage_tui.store.messages import store_batch
from triage_tui.store.models import MessageRow
from triage_tui.store.tickets import reply_sent

SIZES = [(80, 24), (120, 36), (200, 50)]
LONG_SUBJECT = "Our whole finance team is locked out of the invoices page since the upgrade last night"


@pytest.fixture(params=["sqlite"])
def db_url(request, tmp_path) -> str:
    """Pixels do not depend on the engine: snapshots render from SQLite only."""
    return f"sqlite:///{tmp_path / 'triage.db'}"


def _conversation_store(config) -> None:
    """Twelve single-message conversations, one long thread with our reply and an auto-reply, two tickets."""
    seed(12)
    start = FIXED_NOW - timedelta(hours=5)
    customer = dict(thread_id="thr-long", subject=LONG_SUBJECT)
    first = prepared(500, now=start, received_at=start, **customer)
    ours = prepared(501, now=start, received_at=start + timedelta(minutes=30), thread_id="thr-long",
                    subject=f"Re: {LONG_SUBJECT}", sender=Address(email=AGENT, name="Support"),
                    headers=[Header(name="X-Triage-Ticket", value="none")])
    ours.signals, ours.suggestion = MailSignals(own_outbound=True), None
    auto = prepared(502, now=start, received_at=start + timedelta(minutes=31), thread_id="thr-long",
                    subject=f"Automatic reply: {LONG_SUBJECT}")
    auto.signals, auto.suggestion = MailSignals(auto_reply=True), None
    again = prepared(503, now=start, received_at=start + timedelta(hours=2), **customer)
    store_batch(scope(), [first, ours, auto, again], now=FIXED_NOW.timestamp())
    keys = {r.message_id: r.id for r in MessageRow.select()}
    approve_ticket(keys["msg-000003"], actor="alice", config=config, now=FIXED_NOW)   # open: still waiting on us
    approve_ticket(keys["msg-000004"], actor="alice", config=config, now=FIXED_NOW)
    with write_transaction():                                                          # pending: waits on them
        reply_sent(GRANT, "msg-000004", at=FIXED_NOW.timestamp(), actor="dispatcher")


async def _queue_ready(pilot) -> None:
    """The window painted, the row count in the status line and the header figures shown."""
    app = pilot.app
    await settle(pilot)
    assert await wait_until(pilot, lambda: app.screen.table.loaded and app.stats is not None
                            and app.screen.table.count == app.stats.queue_depth > 0)
    for widget in app.screen.query("Input"):
        widget.cursor_blink = False
    await settle(pilot)


class TestConversationQueue:
    """One row per conversation with its message count, ticket and SLA, readable at every width."""

    @pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
    def test_queue_at(self, size, db, config, app_factory, snap_compare):
        """80x24 drops TICKET, REVIEWER, FLAGS; 120x36 narrows FROM and CATEGORY; 200x50 shows all."""
        _conversation_store(config)
        app = app_factory(poll_interval_s=3600)
        assert snap_compare(app, terminal_size=size, run_before=_queue_ready)
