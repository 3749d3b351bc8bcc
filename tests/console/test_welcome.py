"""First run: with no inbox configured the console says how to get one, on the screen itself."""

from __future__ import annotations

from textual.widgets import Static

from triage_tui.console.screens.queue import QueueScreen
from triage_tui.console.screens.welcome import WelcomeScreen


async def test_no_inbox_shows_init_and_demo_on_the_screen_then_enter_opens_the_queue(app_factory, config):
    app = app_factory(config=config.model_copy(update={"inboxes": []}), config_file="/home/me/config.toml")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        shown = str(app.screen.query_one("#welcome-text", Static).content)
        assert "No inbox is configured yet." in shown and "/home/me/config.toml" in shown
        assert "triage-tui init" in shown and "triage-tui demo" in shown and "NYLAS_API_KEY" in shown
        screenshot = app.export_screenshot()
        assert "triage-tui&#160;init" in screenshot or "triage-tui init" in screenshot
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)

