"""What the console and `status --json` show about sending: switch, alert, outbox counts, environment."""

from __future__ import annotations

import time

from triage_tui.config import Config
from triage_tui.store.control import paused_grants, read_stop_switch
from triage_tui.store.delivery import delivery_counts
from triage_tui.store.outbox import DELIVERY_PROBLEMS, count_by_state, count_waiting
from triage_tui.store.text import to_epoch


def stop_switch_alert(config: Config, now: float | None = None) -> str:
    """A one-line alert once the switch has stayed on past the threshold, else ""."""
    now = time.time() if now is None else now
    switch = read_stop_switch(now)
    if not switch.on or switch.since is None:
        return ""
    minutes_on = (now - to_epoch(switch.since)) / 60
    if minutes_on * 60 < config.outbound.stop_switch_alert_after_s:
        return ""
    return (f"sends paused for {minutes_on:.0f} min by {switch.actor} ({switch.reason}); "
            f"{count_waiting()} waiting")


def outbound_status(config: Config, now: float | None = None) -> dict:
    """A JSON-ready summary: environment, stop switch, alert, waiting sends and outbox by state."""
    switch = read_stop_switch(now)
    names = {i.grant_id: i.email for i in config.inboxes}
    delivery = delivery_counts()
    return {
        "environment": config.environment,
        "stop_switch": switch.model_dump(mode="json"),
        "stop_switch_alert": stop_switch_alert(config, now),
        "outbox_waiting": count_waiting(),
        "outbox_by_state": count_by_state(),
        "paused_inboxes": {names.get(grant, grant): {"grant_id": grant, **pause.model_dump(mode="json")}
                           for grant, pause in paused_grants(now).items()},
        "delivery_by_status": delivery,
        "delivery_problems": sum(n for status, n in delivery.items() if status in DELIVERY_PROBLEMS),
    }
