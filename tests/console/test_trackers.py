"""The console and the tracker: the ticket's key and URL in the queue and thread, copy and open keys,
the header's tracker line (credentials refused, paused) and the audited tracker pause."""

from __future__ import annotations

from tests.console.helpers import SqliteOnly, make_config, screen_text, settle, wait_until
from tests.trackers.conftest import make_fake, shared_fakes  # noqa: F401  (the fake trackers)
from tests.trackers.helpers import tracker_settings
from triage_tui.config import Config
from triage_tui.console.dialogs.confirm import ConfirmDialog, ReasonDialog
from triage_tui.console.screens.thread import ThreadScreen
from triage_tui.outbound.tracker_dispatch import dispatch_tracker_once
from triage_tui.store.audit import list_audit
from triage_tui.store.control import TRACKER_PAUSE, read_stop_switch
from triage_tui.store.decisions import approve_ticket
from triage_tui.store.models import MessageRow
from triage_tui.trackers.registry import build_tracker


def _tracked(db_url: str, fake, **extra) -> Config:
    data = make_config(db_url, **extra).model_dump()
    data.update(trackers={"gh": tracker_settings("github", fake)}, tracking={"default_tracker": "gh"})
    return Config.model_validate(data)


def _approve_and_write(config: Config) -> MessageRow:
    row = MessageRow.select().where(MessageRow.kind == "customer").order_by(MessageRow.id).first()
    approve_ticket(row.id, actor="alice", config=config)
    tracker = build_tracker(config, "gh")
    dispatch_tracker_once(config, tracker, owner="w1")
    tracker.close()
    return row


class TestTrackerConsole(SqliteOnly):
    async def test_the_key_shows_in_queue_and_thread_and_the_url_copies_and_opens(self, seeded, app_factory, db_url,
                                                                                 make_fake, monkeypatch):
        fake = make_fake("github")
        config = _tracked(db_url, fake).model_copy(update={"keymap": {"ticket.open_url": "w"}})
        _approve_and_write(config)
        url = fake.state()["items"][0]["html_url"]
        opened = []
        monkeypatch.setattr("triage_tui.console.trackers.open_url", lambda u: opened.append(u) or True)
        app = app_factory(config=config, poll_interval_s=0.1)
        async with app.run_test(size=(140, 36)) as pilot:
            await settle(pilot)
            table = app.screen.table
            assert await wait_until(pilot, lambda: any(i.ticket_key == "acme/support#1" for i in table.items))
            while table.current.ticket_key != "acme/support#1":
                await pilot.press("down")
            assert "acme/support#1" in screen_text(app)
            await pilot.press("enter")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ThreadScreen))
            assert await wait_until(pilot, lambda: "Tracker: acme/support#1" in screen_text(app)), screen_text(app)
            await pilot.press("y")
            assert await wait_until(pilot, lambda: app.clipboard == url)
            await pilot.press("b")  # remapped away: nothing opens
            await pilot.press("w")
            assert await wait_until(pilot, lambda: opened == [url])

    async def test_a_refused_token_shows_in_the_header_and_the_pause_is_audited(self, seeded, app_factory, db_url,
                                                                                make_fake, monkeypatch):
        fake = make_fake("github")
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_revoked")
        config = _tracked(db_url, fake)
        _approve_and_write(config)
        app = app_factory(config=config, poll_interval_s=0.1)
        async with app.run_test(size=(160, 36)) as pilot:
            assert await wait_until(pilot, lambda: "TRACKER: github tracker 'gh' refuses our credentials"
                                    in screen_text(app))
            await pilot.press("ctrl+t")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ReasonDialog))
            await pilot.press(*"token rotation", "enter")
            assert await wait_until(pilot, lambda: read_stop_switch(key=TRACKER_PAUSE).on)
            assert await wait_until(pilot, lambda: "TRACKER: tracker writes paused by alice" in screen_text(app))
            await pilot.press("ctrl+t")
            assert await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            assert await wait_until(pilot, lambda: not read_stop_switch(key=TRACKER_PAUSE).on)
            actions = [e.action for _, e in list_audit(action=TRACKER_PAUSE)]
            assert sorted(actions) == [f"{TRACKER_PAUSE}.off", f"{TRACKER_PAUSE}.on"]
            assert all(e.actor == "alice" for _, e in list_audit(action=TRACKER_PAUSE))
