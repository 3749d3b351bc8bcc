"""What every screen shows: the status header and the stop-switch banner."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from triage_tui.console.format import age_text, clip, sparkline
from triage_tui.domain import HeaderStats, StopSwitch


class StatusHeader(Horizontal):
    """Environment, queue depth, oldest unhandled, sends waiting, stop switch, inbound sparkline."""

    def __init__(self, environment: str, tenant: str, *, inbox_names: dict[str, str] | None = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.environment = environment
        self.tenant = tenant
        self.inbox_names = inbox_names or {}
        self._shown_figures: tuple[str, bool] | None = None

    def compose(self) -> ComposeResult:
        """The environment badge and the figures."""
        env = "PRODUCTION" if self.environment == "production" else "TEST"
        yield Static(f" {env} ", id="env-badge", classes=f"-{self.environment}", markup=False)
        yield Static("", id="header-figures", markup=False)
        yield Static("", id="header-stop", markup=False)

    def show(self, stats: HeaderStats | None, stop: StopSwitch, progress: object | None,
             now: datetime) -> None:
        """Repaint the figures from the latest poll."""
        parts = [self.tenant]
        spark = ""
        if stats is not None:
            depth = f"{stats.queue_depth:,}{'+' if stats.queue_depth_capped else ''}"
            oldest = age_text(stats.oldest_unhandled_at, now) if stats.oldest_unhandled_at else "-"
            parts += [f"queue {depth}", f"oldest {oldest}", f"to send {stats.sends_waiting}"]
            if stats.send_failures:
                parts.append(f"SEND FAILURES {stats.send_failures}")
            for grant_id in stats.paused_inboxes:
                parts.append(f"PAUSED {self.inbox_names.get(grant_id, grant_id)}")
            if stats.tracker_alert:
                parts.append(f"TRACKER: {clip(stats.tracker_alert, 110).strip()}")
            if stats.quarantined:
                parts.append(f"quarantined {stats.quarantined}")
            spark = f"in/min {sparkline(stats.inbound_per_minute)}"
        sync = _sync_text(progress)
        if sync:
            parts.append(sync)
        classifier = getattr(progress, "classifier", "")
        if classifier:
            parts.append(f"classifier {classifier}")
        if spark:
            parts.append(spark)
        shown = (" │ ".join(parts), stop.on)
        if shown == self._shown_figures:
            return
        figures, badges = self.query("#header-figures").results(Static), self.query("#header-stop").results(Static)
        figure, badge = next(figures, None), next(badges, None)
        if figure is None or badge is None:
            return  # a poll landed before the header composed: the next one paints it
        self._shown_figures = shown
        figure.update(shown[0])
        badge.update(" SENDS PAUSED " if stop.on else " sends on ")
        badge.set_class(stop.on, "-on")


def _sync_text(progress: object | None) -> str:
    if progress is None:
        return ""
    running = getattr(progress, "running", False)
    ingested = getattr(progress, "ingested", 0)
    total = getattr(progress, "total", None)
    error = getattr(progress, "last_error", "")
    if error:
        return f"sync error: {str(error)[:40]}"
    if running:
        return f"syncing {ingested:,}/{total:,}" if total else f"syncing {ingested:,}"
    return f"synced {ingested:,}"


class StopBanner(Static):
    """A red line on every screen while the stop switch is on: who, since when, why."""

    def __init__(self, key_display: str = "F9", **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.key_display = key_display
        self.display = False
        self._banner_text = ""

    def show(self, stop: StopSwitch, now: datetime, alert_after_s: int = 0) -> None:
        """Show or hide the banner for this stop-switch state."""
        if self.display != stop.on:
            self.display = stop.on
        if not stop.on:
            return
        since = stop.since.strftime("%H:%M UTC") if stop.since else "?"
        held = f" ({age_text(stop.since, now)} ago)" if stop.since else ""
        until = f" until {stop.until.strftime('%H:%M UTC')}" if stop.until else ""
        long_on = bool(stop.since and alert_after_s and (now - stop.since).total_seconds() > alert_after_s)
        self.set_class(long_on, "-long")
        alert = "  STILL ON: replies are piling up." if long_on else ""
        text = (f"STOP SWITCH ON: no reply is sent. Paused by {stop.actor or '?'} at {since}{held}"
                f"{until}: {stop.reason}  [{self.key_display} to lift]{alert}")
        if text != self._banner_text:
            self._banner_text = text
            self.update(text)
