"""The console's tracker parts: the header's tracker line, opening a ticket in the browser, the tracker pause."""

from __future__ import annotations

import webbrowser
from typing import TYPE_CHECKING

from textual import work

from triage_tui.console import data
from triage_tui.console.dialogs.confirm import ConfirmDialog, ReasonDialog
from triage_tui.console.messages import ActionDone
from triage_tui.domain import HeaderStats, StopSwitch

if TYPE_CHECKING:
    from triage_tui.config import Config


def open_url(url: str) -> bool:
    """Open a URL in the browser; tests replace this function."""
    return webbrowser.open(url)


def read_header(config: "Config", now: float, dispatcher: object | None) -> HeaderStats:
    """The header figures with the most pressing tracker problem (store-wide, else this process's own)."""
    from triage_tui.store.queue import header_stats
    from triage_tui.store.tracker_queries import tracker_problems

    problems = tracker_problems(config, now)
    # A pause someone chose comes first; the most pressing other problem follows it.
    paused = [p.line for p in problems if p.problem == "paused"][:1]
    others = [p.line for p in problems if p.problem != "paused"][:1]
    if not others and dispatcher is not None:  # this process's own trouble, such as a missing secret
        others = [f"tracker {name!r}: {line}" for name, line in sorted(dispatcher.problems().items())][:1]
    return header_stats(now=now).model_copy(update={"tracker_alert": "; ".join(paused + others)})


class TrackerActions:
    """App actions about tracker writes (mixed into the app)."""

    tracker_dispatcher: object | None = None

    @work(thread=True, group="browser", exit_on_error=False)
    def open_in_browser(self, url: str) -> None:
        """Open a ticket's URL in the browser, off the UI thread."""
        try:
            opened = open_url(url)
        except Exception as exc:  # noqa: BLE001 - no browser is a message, not a crash
            opened = False
            why = f": {exc}"
        else:
            why = ""
        text = f"Opened {url} in the browser." if opened else f"No browser could open {url}{why}"
        self.post_message(ActionDone(text if opened else "", error="" if opened else text))

    def action_tracker_pause(self) -> None:
        """Pause every tracker write (asks why) or resume them (says how many wait); audited like `pause --trackers`."""
        self._read_tracker_pause()

    @work(thread=True, group="tracker-pause", exclusive=True, exit_on_error=False)
    def _read_tracker_pause(self) -> None:
        from triage_tui.store.control import TRACKER_PAUSE, read_stop_switch
        from triage_tui.store.tracker_queries import count_pending

        pause, waiting = data.run(lambda: (read_stop_switch(key=TRACKER_PAUSE), count_pending()))
        self.call_from_thread(self._ask_tracker_pause, pause, waiting)

    def _ask_tracker_pause(self, pause: StopSwitch, waiting: int) -> None:
        def paused(reason: str | None) -> None:
            if reason:
                self._flip_tracker_pause(True, reason)

        def resumed(yes: bool | None) -> None:
            if yes:
                self._flip_tracker_pause(False, "")

        if not pause.on:
            self.push_screen(ReasonDialog("Pause every tracker write? Customer replies carry on. Say why:",
                                          placeholder="reason (required)", action="Pause tracker writes"), paused)
            return
        writes = "1 tracker write is" if waiting == 1 else f"{waiting} tracker writes are"
        self.push_screen(ConfirmDialog(f"Resume tracker writes paused by {pause.actor}? {writes} waiting.",
                                       yes="Resume tracker writes"), resumed)

    @work(thread=True, group="tracker-pause-flip", exit_on_error=False)
    def _flip_tracker_pause(self, on: bool, reason: str) -> None:
        from triage_tui.store.control import TRACKER_PAUSE, set_stop_switch

        data.run(set_stop_switch, on, actor=self.operator, reason=reason, tenant_id=self.config.tenant_id,
                 environment=self.config.environment, key=TRACKER_PAUSE)
        self._stats_at = 0.0  # the header re-reads the tracker line at the next poll
        self.post_message(ActionDone("Tracker writes paused." if on else "Tracker writes resume."))
