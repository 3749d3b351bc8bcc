"""Reply: draft from the template, review exactly what goes out, approve into exactly one outbox entry."""

from __future__ import annotations

from tests.console.helpers import AGENT, GRANT, SqliteOnly, screen_text, settle, wait_until
from triage_tui.console.dialogs.confirm import ConfirmDialog
from triage_tui.console.screens.reply import ReplyEditScreen, ReplyReviewScreen
from triage_tui.store.decisions import decisions_for
from triage_tui.store.models import OutboxRow, TicketRow


async def _open_draft(pilot, app):
    """r on a conversation without a ticket: confirm the approval, then the draft opens."""
    await settle(pilot)
    await pilot.press("r")
    assert await wait_until(pilot, lambda: isinstance(app.screen, (ConfirmDialog, ReplyEditScreen)))
    if isinstance(app.screen, ConfirmDialog):
        await pilot.press("y")
    assert await wait_until(pilot, lambda: isinstance(app.screen, ReplyEditScreen))
    await settle(pilot)
    return app.screen


class TestReplyNeedsATicket(SqliteOnly):
    """The draft names the ticket; a conversation without one is approved first (SQLite only: the
    approval itself runs on both engines in the store tests)."""

    async def test_a_reply_needs_a_ticket_and_the_draft_carries_its_reference(self, seeded, app_factory):
        app = app_factory()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            item = app.screen.table.current
            await pilot.press("r")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert "no ticket yet" in app.screen.question
            await pilot.press("escape")          # no: nothing is approved, no draft opens
            await settle(pilot)
            assert TicketRow.select().count() == 0 and not isinstance(app.screen, ReplyEditScreen)
            editor = await _open_draft(pilot, app)
            ticket = TicketRow.get(TicketRow.thread_id == item.thread_id)
            assert decisions_for(GRANT, item.message_id)[0].ticket_id == ticket.ticket_id
            assert f"Your reference is {ticket.ticket_id}" in editor.reply.body
            assert "pending" not in editor.reply.body
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("r")               # the ticket exists now: straight to the draft
            assert await wait_until(pilot, lambda: isinstance(app.screen, ReplyEditScreen))
            assert TicketRow.select().count() == 1


async def test_review_then_approve_creates_exactly_one_outbox_entry(seeded, app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 36)) as pilot:
        item = None
        await settle(pilot)
        item = app.screen.table.current
        editor = await _open_draft(pilot, app)
        assert editor.reply.to[0].email == item.sender and AGENT not in [a.email for a in editor.reply.to]
        await pilot.press("end", *" Thanks!")
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ReplyReviewScreen))
        review = app.screen
        assert review.reply.to[0].email == item.sender
        assert "Hello Ana, Thanks!" in review.reply.body   # what was typed is what is reviewed
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: OutboxRow.select().count() == 1)
        await settle(pilot)
        row = OutboxRow.get()
        assert (row.reply_to_message_id, row.approved_by, row.state) == (item.message_id, "alice", "pending")
        assert row.body == review.reply.body and item.sender in row.to_addrs
        assert not isinstance(app.screen, (ReplyEditScreen, ReplyReviewScreen))
        assert OutboxRow.select().count() == 1


async def test_cancel_at_review_writes_nothing(seeded, app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 36)) as pilot:
        await _open_draft(pilot, app)
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ReplyReviewScreen))
        await pilot.press("e")               # back to editing
        await settle(pilot)
        assert isinstance(app.screen, ReplyEditScreen)
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ReplyReviewScreen))
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, (ReplyEditScreen, ReplyReviewScreen))
        assert OutboxRow.select().count() == 0


async def test_an_empty_body_cannot_go_to_review(seeded, app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 36)) as pilot:
        editor = await _open_draft(pilot, app)
        editor.query_one("#body").text = "   "
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ReplyEditScreen)
        assert "empty" in str(editor.query_one("#reply-error").render())


async def test_reply_to_on_another_domain_needs_an_explicit_choice(seeded, app_factory):
    """The rich message's Reply-To is on another domain: From is the default, Reply-To only by choice."""
    app = app_factory()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.table
        table._move_to(next(i for i, item in enumerate(table.items) if item.message_id == "msg-000900"))
        editor = await _open_draft(pilot, app)
        assert [a.email for a in editor.reply.to] == ["ana@globex.example"]
        assert "pay@evil-payments.example" in [a.email for a in editor.choice.alternatives]
        assert editor.choice.warning
        editor.query_one("#recipients").value = "pay@evil-payments.example"
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ReplyReviewScreen))
        assert [a.email for a in app.screen.reply.to] == ["pay@evil-payments.example"]
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: OutboxRow.select().count() == 1)
        assert "pay@evil-payments.example" in OutboxRow.get().to_addrs


async def test_a_failed_send_is_shown_in_the_header_and_announced(seeded, app_factory):
    app = app_factory(poll_interval_s=0.2)
    async with app.run_test(size=(160, 36)) as pilot:
        editor = await _open_draft(pilot, app)
        assert editor.reply.body
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ReplyReviewScreen))
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: OutboxRow.select().count() == 1)
        assert "SEND FAILURES" not in screen_text(app)
        OutboxRow.update(state="failed", last_error="403 insufficient_scopes",
                         updated_at=OutboxRow.get().updated_at + 1).execute()  # as the dispatcher records it
        assert await wait_until(pilot, lambda: "SEND FAILURES 1" in screen_text(app), timeout=10)
        toasts = [n.message for n in app._notifications]
        assert any("Send needs attention" in t and "insufficient_scopes" in t for t in toasts)
