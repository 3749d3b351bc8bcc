"""Pilot tests: real keys on the console, then the database says what happened."""

from __future__ import annotations

from tests.console.helpers import GRANT, SqliteOnly, settle, wait_until
from triage_tui.console.dialogs.confirm import ConfirmDialog, ReasonDialog
from triage_tui.console.screens.thread import ThreadScreen
from triage_tui.domain import DecisionKind
from triage_tui.store.audit import list_audit
from triage_tui.store.decisions import decisions_for
from triage_tui.store.models import TicketRow


class TestApprove:
    """Approving from the queue makes a ticket, a decision and an audit row."""

    async def test_a_approves_the_highlighted_message_as_suggested(self, seeded, app_factory):
        app = app_factory()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            item = app.screen.table.current
            await pilot.press("a")
            assert await wait_until(pilot, lambda: bool(decisions_for(GRANT, item.message_id)))
            await settle(pilot)
            ticket = TicketRow.get(TicketRow.thread_id == item.thread_id)
            assert (ticket.category, ticket.urgency, ticket.created_by) == (item.category, item.urgency, "alice")
            [decision] = decisions_for(GRANT, item.message_id)
            assert decision.kind == DecisionKind.APPROVE_TICKET and decision.ticket_id == ticket.ticket_id
            actions = [event.action for _, event in list_audit(text=item.message_id)]
            assert any(a.startswith("ticket") or a.startswith("decision") for a in actions), actions
            # an open ticket still waits on us: the row stays, now showing the ticket, until we reply
            assert await wait_until(pilot, lambda: app.screen.table.current.ticket_status == "open")
            assert app.screen.table.current.key == item.key and app.screen.table.selected == 0
            assert app.screen.table.current.ticket_id == ticket.ticket_id

    async def test_a_refuses_when_the_suggestion_changed_after_it_was_shown(self, seeded, app_factory):
        from triage_tui.store.models import MessageRow

        app = app_factory(poll_interval_s=3600)  # the queue keeps what it showed
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            item = app.screen.table.current
            upgraded = "bug" if item.category != "bug" else "billing"
            MessageRow.update(category=upgraded).where(MessageRow.id == item.decision_key).execute()
            await pilot.press("a")
            assert await wait_until(pilot, lambda: any(f"to {upgraded} since it was shown" in str(n.message)
                                                       for n in app._notifications))
            assert not decisions_for(GRANT, item.message_id)
            assert not TicketRow.select().where(TicketRow.thread_id == item.thread_id).exists()

    async def test_change_dialog_approves_with_the_chosen_category(self, seeded, app_factory):
        app = app_factory()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            item = app.screen.table.current
            await pilot.press("c")
            await pilot.pause()
            dialog = app.screen
            dialog.query_one("#category").value = "bug"
            dialog.query_one("#urgency").value = "low"
            await pilot.click("#save")
            assert await wait_until(pilot, lambda: bool(decisions_for(GRANT, item.message_id)))
            ticket = TicketRow.get(TicketRow.thread_id == item.thread_id)
            assert (ticket.category, ticket.urgency) == ("bug", "low")

    async def test_batch_approval_confirms_how_many_then_approves_each(self, seeded, app_factory):
        app = app_factory()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            first, second = app.screen.table.items[:2]
            await pilot.press("space", "space", "a")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmDialog)
            assert "2 marked conversations" in app.screen.question
            await pilot.press("y")
            assert await wait_until(pilot, lambda: TicketRow.select().count() == 2)
            for item in (first, second):
                assert decisions_for(GRANT, item.message_id)[0].kind == DecisionKind.APPROVE_TICKET


class TestReject:
    """A rejection cannot be saved without a reason."""

    async def test_blank_reason_is_refused_and_nothing_is_written(self, seeded, app_factory):
        app = app_factory()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            item = app.screen.table.current
            await pilot.press("x")
            await pilot.pause()
            assert isinstance(app.screen, ReasonDialog)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ReasonDialog)
            assert "required" in str(app.screen.query_one("#reason-error").render())
            assert decisions_for(GRANT, item.message_id) == []
            await pilot.press(*"not ours", "enter")
            assert await wait_until(pilot, lambda: bool(decisions_for(GRANT, item.message_id)))
            [decision] = decisions_for(GRANT, item.message_id)
            assert (decision.kind, decision.reason, decision.actor) == (DecisionKind.REJECT, "not ours", "alice")

    async def test_escape_cancels_without_writing(self, seeded, app_factory):
        app = app_factory()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            item = app.screen.table.current
            await pilot.press("x", "escape")
            await settle(pilot)
            assert decisions_for(GRANT, item.message_id) == []


class TestSnooze:
    """Snooze hides a message until the chosen time."""

    async def test_snooze_one_hour(self, seeded, app_factory):
        from datetime import timedelta

        from tests.console.helpers import FIXED_NOW

        app = app_factory()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            item = app.screen.table.current
            await pilot.press("s")
            await settle(pilot)
            await pilot.press("enter")       # the first choice: 1 hour
            assert await wait_until(pilot, lambda: bool(decisions_for(GRANT, item.message_id)))
            [decision] = decisions_for(GRANT, item.message_id)
            assert decision.kind == DecisionKind.SNOOZE
            assert decision.snooze_until == FIXED_NOW + timedelta(hours=1)
            assert await wait_until(pilot, lambda: all(i.key != item.key for i in app.screen.table.items))


class TestThreadDecisions:
    """Deciding from the thread view returns to the queue."""

    async def test_dismiss_spam_from_the_thread(self, seeded, app_factory):
        app = app_factory()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            item = app.screen.table.current
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ThreadScreen)
            await pilot.press("d")
            assert await wait_until(pilot, lambda: bool(decisions_for(GRANT, item.message_id)))
            assert decisions_for(GRANT, item.message_id)[0].kind == DecisionKind.DISMISS_SPAM
            assert await wait_until(pilot, lambda: not isinstance(app.screen, ThreadScreen))


class TestPaletteAndLeases:
    """The command palette runs the same actions; opening a thread takes the review lease."""

    async def test_palette_entry_approves(self, seeded, app_factory):
        app = app_factory()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            item = app.screen.table.current
            await pilot.press("ctrl+p")
            await settle(pilot)
            await pilot.press(*"ticket: approve")
            await pilot.pause(0.3)
            await pilot.press("enter")
            assert await wait_until(pilot, lambda: bool(decisions_for(GRANT, item.message_id)))
            assert decisions_for(GRANT, item.message_id)[0].kind == DecisionKind.APPROVE_TICKET

    async def test_reading_a_thread_holds_its_review_lease_until_back(self, seeded, app_factory):
        from triage_tui.store.leases import lease_holders

        app = app_factory()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            item = app.screen.table.current
            await pilot.press("enter")
            key = item.decision_key  # the conversation's latest customer message carries the lease
            assert await wait_until(pilot, lambda: lease_holders([key]) == {key: "alice"})
            await pilot.press("escape")
            assert await wait_until(pilot, lambda: lease_holders([key]) == {})

    async def test_a_thread_held_by_someone_else_is_taken_over_only_after_confirmation(self, seeded, app_factory):
        from triage_tui.store.leases import lease_holders, take_review_lease

        app = app_factory()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            key = app.screen.table.current.decision_key
            take_review_lease(key, holder="ben")
            await pilot.press("enter")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert lease_holders([key]) == {key: "ben"}
            await pilot.press("escape")  # "Just read": ben keeps it
            assert await wait_until(pilot, lambda: isinstance(app.screen, ThreadScreen))
            assert lease_holders([key]) == {key: "ben"}
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("enter")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            assert await wait_until(pilot, lambda: lease_holders([key]) == {key: "alice"})
            takeovers = [event for _, event in list_audit(action="lease.takeover")]
            assert len(takeovers) == 1 and takeovers[0].actor == "alice"


class TestTicketLifecycle(SqliteOnly):
    """S solves, O reopens, status: filters list tickets, v shows single messages.

    Keys and screens do not depend on the engine (tests/store/test_conversations.py runs the
    lifecycle itself on both): this runs on SQLite only.
    """

    async def test_solve_reopen_status_filter_and_the_message_view(self, seeded, app_factory):
        app = app_factory()
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            table = app.screen.table
            item = table.current
            await pilot.press("a")
            assert await wait_until(pilot, lambda: table.current.ticket_status == "open")
            await pilot.press("S")
            ticket = lambda: TicketRow.get(TicketRow.thread_id == item.thread_id)  # noqa: E731
            assert await wait_until(pilot, lambda: ticket().status == "solved")
            assert await wait_until(pilot, lambda: item.key not in {i.key for i in table.items})
            await pilot.press("slash", *"status:solved", "enter")
            assert await wait_until(pilot, lambda: [i.key for i in table.items] == [item.key])
            await pilot.press("O")
            assert await wait_until(pilot, lambda: ticket().status == "open")
            kinds = [d.kind for d in decisions_for(GRANT, item.message_id)]
            assert kinds == [DecisionKind.APPROVE_TICKET, DecisionKind.SOLVE_TICKET, DecisionKind.REOPEN_TICKET]
            await pilot.press("slash")
            app.screen.query_one("#filter").value = ""
            await pilot.press("enter", "v")
            assert await wait_until(pilot, lambda: table.filter.messages and table.loaded and table.items)
            assert app.screen.query_one("#filter").value == "view:messages"
            assert all(not i.conversation and i.key == i.message_key for i in table.items)
            assert "messages in this view" in str(app.screen.query_one("#queue-status").render())
