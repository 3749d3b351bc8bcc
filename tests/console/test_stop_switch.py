"""The stop switch: one key from any screen (text fields included), a reason, a banner, a confirmed lift."""

from __future__ import annotations

from tests.console.helpers import make_config, screen_text, settle, wait_until
from triage_tui.console.dialogs.confirm import ConfirmDialog, ReasonDialog
from triage_tui.console.screens.thread import ThreadScreen
from triage_tui.console.widgets.chrome import StopBanner
from triage_tui.store.audit import list_audit
from triage_tui.store.control import read_stop_switch, set_stop_switch


async def test_f9_sets_the_switch_with_a_reason_and_shows_the_banner(seeded, app_factory):
    app = app_factory(poll_interval_s=0.1)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash")          # focus is in the filter text field
        await pilot.press("f9")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ReasonDialog))
        await pilot.press("enter")           # no reason: refused
        await settle(pilot)
        assert isinstance(app.screen, ReasonDialog) and not read_stop_switch().on
        await pilot.press(*"incident 42", "enter")
        assert await wait_until(pilot, lambda: read_stop_switch().on)
        state = read_stop_switch()
        assert (state.actor, state.reason) == ("alice", "incident 42")
        assert await wait_until(pilot, lambda: app.screen.query_one(StopBanner).display)
        assert await wait_until(pilot, lambda: "STOP SWITCH ON" in screen_text(app)
                                and "incident 42" in screen_text(app))  # drawn on a following frame
        # the banner follows to every screen
        await pilot.press("escape", "enter")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ThreadScreen))
        await settle(pilot)
        assert "STOP SWITCH ON" in screen_text(app)
        assert [e.action for _, e in list_audit(action="stop_switch")] == ["stop_switch.on"]


async def test_lifting_needs_a_confirmation_that_counts_waiting_sends(seeded, app_factory):
    set_stop_switch(True, actor="bob", reason="bad template")
    app = app_factory(poll_interval_s=0.1)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(StopBanner).display
        await pilot.press("f9")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "set by bob" in app.screen.question and "0 sends are waiting" in app.screen.question
        await pilot.press("escape")          # cancel: still on
        await settle(pilot)
        assert read_stop_switch().on
        await pilot.press("f9")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        assert await wait_until(pilot, lambda: not read_stop_switch().on)
        assert await wait_until(pilot, lambda: not app.screen.query_one(StopBanner).display)


async def test_a_switch_flipped_elsewhere_shows_within_a_second(seeded, app_factory):
    app = app_factory(poll_interval_s=0.5)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one(StopBanner).display
        set_stop_switch(True, actor="carol", reason="from another console")
        assert await wait_until(pilot, lambda: app.screen.query_one(StopBanner).display, timeout=1.5)
        assert await wait_until(pilot, lambda: "carol" in screen_text(app))  # drawn on a following frame


async def test_the_stop_key_is_remappable(seeded, app_factory, db_url):
    config = make_config(db_url)
    config = config.model_copy(update={"keymap": {"app.stop_switch": "f10", "no.such.binding": "x"}})
    app = app_factory(config=config)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        assert not isinstance(app.screen, ReasonDialog)
        await pilot.press("f10")
        assert await wait_until(pilot, lambda: isinstance(app.screen, ReasonDialog))
        assert app.unknown_keymap_ids == ["no.such.binding"]


async def test_audit_view_filters_by_action(seeded, app_factory):
    set_stop_switch(True, actor="bob", reason="drill")
    set_stop_switch(False, actor="bob")
    app = app_factory()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        table = app.screen.query_one("#audit-table")
        assert table.row_count == 15          # 13 ingested messages and two flips
        await pilot.press("slash", *"action:stop_switch", "enter")
        await settle(pilot)
        assert table.row_count == 2
        assert "stop_switch.off" in screen_text(app) and "ingest.stored" not in screen_text(app)
