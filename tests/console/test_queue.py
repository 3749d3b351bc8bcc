"""The queue widget: keyset windows, filters with clear errors, new mail that does not move the cursor."""

from __future__ import annotations

from datetime import timedelta

from tests.console.helpers import FIXED_NOW, prepared, scope, screen_text, seed, settle, wait_until
from triage_tui.console.widgets import queue_table
from triage_tui.store.messages import store_batch
from triage_tui.store.queue import queue_window
from triage_tui.domain import QueueFilter


async def test_filter_error_is_shown_and_a_good_filter_applies(seeded, app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        before = [item.key for item in app.screen.table.items]
        await pilot.press("slash", *"urg:someday", "enter")
        await settle(pilot)
        assert "unknown urgency 'someday'" in screen_text(app)
        assert [item.key for item in app.screen.table.items] == before
        app.screen.query_one("#filter").value = ""
        await pilot.press(*"cat:billing", "enter")
        await settle(pilot)
        items = app.screen.table.items
        assert items and {item.category for item in items} == {"billing"}
        assert "unknown urgency" not in screen_text(app)


async def test_new_mail_appears_without_moving_the_cursor(seeded, app_factory):
    app = app_factory(poll_interval_s=0.1)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.table
        await pilot.press("down", "down", "down")
        held = table.current
        row_on_screen = table.selected - table.top
        # a critical message sorts above the cursor
        store_batch(scope(), [prepared(3000, now=FIXED_NOW - timedelta(hours=1))], now=FIXED_NOW.timestamp())
        assert await wait_until(pilot, lambda: any(i.message_id == "msg-003000" for i in table.items)
                                and table.count == 14)
        assert table.current.key == held.key
        assert table.selected - table.top == row_on_screen


def _is_slice(window: list[int], whole: list[int]) -> bool:
    if not window:
        return False
    start = whole.index(window[0])
    return whole[start : start + len(window)] == window


async def test_paging_keeps_a_bounded_contiguous_window_in_queue_order(db, app_factory, monkeypatch):
    monkeypatch.setattr(queue_table, "PAGE", 6)
    monkeypatch.setattr(queue_table, "MAX_ROWS", 24)
    monkeypatch.setattr(queue_table, "DEFAULT_VISIBLE", 8)
    seed(80, rich=False)
    expected = [item.key for item in queue_window(QueueFilter(), limit=1000, now=FIXED_NOW.timestamp())]
    app = app_factory()
    async with app.run_test(size=(120, 12)) as pilot:
        await settle(pilot)
        table = app.screen.table
        visited = [table.current.key]
        while table.current.key != expected[-1]:
            await pilot.press("pagedown")
            await settle(pilot, rounds=1)
            keys = [item.key for item in table.items]
            assert _is_slice(keys, expected) and len(keys) <= 24 + 6
            visited.append(table.current.key)
            assert len(visited) < 60, "the cursor stopped moving"
        assert visited == sorted(visited, key=expected.index)    # never jumped back
        await pilot.press("up", "up")
        await settle(pilot)
        assert table.current.key == expected[-3]
        await pilot.press("home")
        await settle(pilot)
        assert table.current.key == expected[0] and table.at_start
        await pilot.press("end")
        await settle(pilot)
        assert table.current.key == expected[-1] and table.at_end
