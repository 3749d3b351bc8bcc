"""A console process for the team drill: Pilot drives a real console that drafts and approves replies.

python -m tests.team.drill_console CONFIG OPERATOR SECONDS OUT_JSON OFFSET
Writes {"approved": n, "errors": [...], "recoveries": [...]} to OUT_JSON when done.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from tests.console.helpers import wait_until
from triage_tui.config import load_config
from triage_tui.console.app import make_app
from triage_tui.console.dialogs.confirm import ConfirmDialog
from triage_tui.console.screens.reply import ReplyEditScreen, ReplyReviewScreen
from triage_tui.console.themes import bundled_theme_dir
from triage_tui.console.widgets.queue_table import QueueTable
from triage_tui.store.transient import recoveries


async def drive(config_path: str, operator: str, seconds: float, offset: int) -> dict:
    """Approve a reply to one queue row after another until the time is up (and at least one)."""
    config = load_config(config_path)
    app = make_app(config, operator=operator, poll_interval_s=0.5, theme_dirs=[bundled_theme_dir()])
    errors: list[str] = []
    original_notify = app.notify

    def notify(message, *args, severity="information", **kwargs):
        if severity == "error":
            errors.append(str(message)[:300])
        return original_notify(message, *args, severity=severity, **kwargs)

    app.notify = notify
    feed_reconnects: list[float] = []

    async def watch_feed() -> None:
        """How long the LISTEN connection stays down after the server restarts."""
        lost = None
        while True:
            connected = app.feed.feed.connected
            if lost is None and not connected and app.feed_healthy:
                lost = time.monotonic()
            elif lost is not None and connected:
                feed_reconnects.append(time.monotonic() - lost)
                lost = None
            await asyncio.sleep(0.05)
    approved = skipped = 0
    trace: list[str] = []
    started = time.monotonic()
    deadline = time.monotonic() + seconds
    async with app.run_test(size=(120, 36)) as pilot:
        watcher = asyncio.get_running_loop().create_task(watch_feed())
        while time.monotonic() < deadline or (approved == 0 and time.monotonic() < deadline + 60):
            await pilot.pause(0.3)
            trace.append(f"{time.monotonic() - started:.1f} {type(app.screen).__name__}")
            if isinstance(app.screen, (ReplyEditScreen, ReplyReviewScreen)):
                # an approval the database refused while it restarted: try again, as a person would
                approved += await _approve_open_reply(pilot, app)
                continue
            tables = app.screen.query(QueueTable)  # another screen, or the queue not composed yet
            if not tables:
                continue
            table = tables.first()
            if not table.items:
                await pilot.press("home")  # the window can end up past the last row after decisions
                continue
            for _ in range(offset % 3):
                await pilot.press("down")
            await pilot.press("r")
            # a conversation without a ticket asks to approve it first (ticket and reply in one go)
            await wait_until(pilot, lambda: isinstance(app.screen, (ConfirmDialog, ReplyEditScreen)), timeout=5)
            if isinstance(app.screen, ConfirmDialog):
                await pilot.press("y")
            if not await wait_until(pilot, lambda: isinstance(app.screen, ReplyEditScreen), timeout=5):
                skipped += 1  # no reply for this one (automated mail, a refused recipient): move on
                if isinstance(app.screen, ConfirmDialog):
                    await pilot.press("escape")
                await pilot.press("a")
                continue
            if not await _approve_open_reply(pilot, app):
                continue  # still open: the next round tries again
            approved += 1
            await pilot.pause(0.2)
            await pilot.press("a")  # a ticket as suggested: the row leaves the open queue
        watcher.cancel()
    return {"approved": approved, "skipped": skipped, "errors": errors, "recoveries": recoveries(), "feed_reconnects": feed_reconnects,
            "trace": trace[-40:]}


async def _approve_open_reply(pilot, app) -> bool:
    """From the reply editor (or its review), review and approve; False while it is still open."""
    if isinstance(app.screen, ReplyEditScreen):
        await pilot.press("ctrl+s")
        if not await wait_until(pilot, lambda: isinstance(app.screen, ReplyReviewScreen)):
            return False
    await pilot.press("ctrl+s")
    return await wait_until(pilot, lambda: not isinstance(app.screen, (ReplyEditScreen, ReplyReviewScreen)))


def main() -> None:
    """Run the console for SECONDS and write what it did."""
    config_path, operator, seconds, out, offset = sys.argv[1:6]
    report = asyncio.run(drive(config_path, operator, float(seconds), int(offset)))
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(report, handle)


if __name__ == "__main__":
    main()
