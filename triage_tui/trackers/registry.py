"""Build the tracker a config names; `local` keeps the store as the system of record."""

from __future__ import annotations

import httpx

from triage_tui.config import Config
from triage_tui.domain import TrackerOp
from triage_tui.trackers.base import Reconciled, Tracker, WriteRequest, WriteResult


class LocalTracker:
    """The store is the system of record: a ticket's key is its own id, comments and status live here."""

    kind = "local"
    min_interval_s = 0.0
    blocked_until = 0.0

    def __init__(self, name: str, config=None) -> None:
        self.name = name
        self.config = config

    def write(self, request: WriteRequest) -> WriteResult:
        """Nothing leaves the machine; a create links the ticket to itself."""
        if request.op is TrackerOp.CREATE:
            return WriteResult(external_id=request.ticket_id, external_key=request.ticket_id)
        return WriteResult()

    def reconcile(self, request: WriteRequest, now: float) -> Reconciled:
        """Nothing can have landed elsewhere."""
        return Reconciled.absent()

    def close(self) -> None:
        """Nothing to release."""


def tracker_classes() -> dict[str, type]:
    """Adapter class per kind (imported lazily: a CLI that never writes needs none of them)."""
    from triage_tui.trackers.github import GitHubTracker
    from triage_tui.trackers.jira import JiraTracker
    from triage_tui.trackers.linear import LinearTracker
    from triage_tui.trackers.webhook import WebhookTracker
    from triage_tui.trackers.zendesk import ZendeskTracker

    return {"local": LocalTracker, "github": GitHubTracker, "jira": JiraTracker, "linear": LinearTracker,
            "zendesk": ZendeskTracker, "webhook": WebhookTracker}


def build_tracker(config: Config, name: str, *, transport: httpx.BaseTransport | None = None) -> Tracker:
    """The adapter for the named tracker (TrackerError of kind "config" when a secret is missing)."""
    settings = config.tracker(name)
    cls = tracker_classes()[settings.kind]
    if cls is LocalTracker:
        return LocalTracker(name, settings)
    return cls(name, settings, transport=transport)


def external_trackers(config: Config) -> list[str]:
    """Names of the configured trackers that live outside the store."""
    return [name for name, settings in config.trackers.items() if settings.kind != "local"]
