"""Snapshots of every screen and of the stop-switch banner: fixed clock, fixed data, no cursor blink.

Update after a deliberate UI change with `pytest tests/console/test_snapshots.py --snapshot-update`
and review the report first.
"""

from __future__ import annotations

import pytest

from tests.console.helpers import make_config, screen_text, settle, wait_until
from triage_tui.store.control import set_stop_switch

SIZE = (120, 36)


async def _steady(pilot) -> None:
    """Workers done, no blinking cursor anywhere."""
    await settle(pilot)
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
        # TextArea caches a line drawn in the blink's "off" phase under the key a steady cursor uses:
        # drop the cache so every line is drawn again, with the steady cursor (a defined state)
        getattr(widget, "_line_cache", {}).clear()
        widget.refresh()
    await settle(pilot)


def _audit_status(app) -> str:
    found = app.screen.query("#audit-status")
    return str(found.first().render()) if found else ""


async def _open_rich_thread(pilot) -> None:
    await _steady(pilot)
    table = pilot.app.screen.table
    index = next(i for i, item in enumerate(table.items) if item.message_id == "msg-000900")
    table._move_to(index)
    await pilot.press("enter")
    # a defined state, not a moment: the detail is read and the review lease (taken on the console's
    # clock, so "Reviewing: alice" shows on every machine) is in the suggestion panel
    assert await wait_until(pilot, lambda: getattr(pilot.app.screen, "detail", None) is not None
                            and "Reviewing: alice" in str(pilot.app.screen.query_one("#suggestion").render()))
    await _steady(pilot)


@pytest.fixture(params=["sqlite"])
def db_url(request, tmp_path) -> str:
    """Pixels do not depend on the engine: snapshots render from SQLite only (behaviour tests run on both)."""
    return f"sqlite:///{tmp_path / 'triage.db'}"


@pytest.fixture
def frozen(seeded, app_factory):
    """An app over the seeded store that does not poll on its own (one poll at start)."""
    return lambda **kw: app_factory(poll_interval_s=3600, **kw)


class TestQueueSnapshots:
    """The queue screen."""

    def test_queue(self, frozen, snap_compare):
        """The open queue: critical first, ages against the SLA, flags."""
        assert snap_compare(frozen(), terminal_size=SIZE, run_before=_steady)

    def test_queue_marked_and_filter_error(self, frozen, snap_compare):
        """Two marked rows and a filter the query language refuses."""
        async def run_before(pilot):
            await _steady(pilot)
            await pilot.press("space", "space", "slash", *"is:lost", "enter")
            await _steady(pilot)
        assert snap_compare(frozen(), terminal_size=SIZE, run_before=run_before)

    def test_stop_switch_banner(self, frozen, snap_compare):
        """The banner while sends are paused: who, since when, why."""
        from tests.console.helpers import FIXED_NOW
        from triage_tui.store.models import ControlRow

        set_stop_switch(True, actor="alice", reason="template sent wrong prices")
        ControlRow.update(since=FIXED_NOW.timestamp() - 600).execute()
        assert snap_compare(frozen(), terminal_size=SIZE, run_before=_steady)


class TestThemeSnapshots:
    """The bundled themes on the queue screen."""

    @pytest.mark.parametrize("theme", ["triage-light", "triage-high-contrast"])
    def test_theme(self, theme, seeded, app_factory, db_url, snap_compare):
        """The queue in each bundled theme."""
        app = app_factory(config=make_config(db_url, theme=theme), poll_interval_s=3600)
        assert snap_compare(app, terminal_size=SIZE, run_before=_steady)


class TestThreadSnapshots:
    """The thread view with its warnings and the suggestion panel."""

    def test_thread_with_warnings(self, frozen, snap_compare):
        """Hidden characters, Reply-To on another domain, folded quote, an attachment."""
        assert snap_compare(frozen(), terminal_size=SIZE, run_before=_open_rich_thread)

    def test_thread_headers_and_quotes_unfolded(self, frozen, snap_compare):
        """Raw headers shown and the quote unfolded."""
        async def run_before(pilot):
            await _open_rich_thread(pilot)
            await pilot.press("h", "z")
            await _steady(pilot)
        assert snap_compare(frozen(), terminal_size=SIZE, run_before=run_before)


class TestDialogSnapshots:
    """Dialogs that guard decisions and sends."""

    def test_reject_needs_a_reason(self, frozen, snap_compare):
        """Enter on an empty reason shows the error and saves nothing."""
        async def run_before(pilot):
            await _steady(pilot)
            await pilot.press("x")
            await _steady(pilot)
            await pilot.press("enter")
            await _steady(pilot)
        assert snap_compare(frozen(), terminal_size=SIZE, run_before=run_before)

    def test_reply_draft(self, frozen, snap_compare):
        """The draft: computed recipients, subject, body in a TextArea."""
        async def run_before(pilot):
            await _steady(pilot)
            await pilot.press("r")
            await _steady(pilot)
        assert snap_compare(frozen(), terminal_size=SIZE, run_before=run_before)

    def test_reply_review(self, frozen, snap_compare):
        """Exactly what will be sent, with send, edit and cancel."""
        async def run_before(pilot):
            await _steady(pilot)
            await pilot.press("r")
            await _steady(pilot)
            await pilot.press("ctrl+s")
            await _steady(pilot)
        assert snap_compare(frozen(), terminal_size=SIZE, run_before=run_before)


class TestOtherScreens:
    """Help and audit."""

    def test_help(self, frozen, snap_compare):
        """Every binding with its id, and the query language."""
        async def run_before(pilot):
            await _steady(pilot)
            await pilot.press("question_mark")
            await _steady(pilot)
        assert snap_compare(frozen(), terminal_size=SIZE, run_before=run_before)

    def test_audit(self, frozen, snap_compare):
        """The audit trail, newest first."""
        async def run_before(pilot):
            await _steady(pilot)
            await pilot.press("ctrl+l")
            # a defined state: the audit screen is up, its first page is in the table and the table has
            # widened its columns to the rows (it does so on a later idle, so read the painted screen)
            assert await wait_until(pilot, lambda: "rows shown" in str(_audit_status(pilot.app))
                                    and "11-27 12:00:00" in screen_text(pilot.app))
            await _steady(pilot)
        assert snap_compare(frozen(), terminal_size=SIZE, run_before=run_before)
