"""Test helpers for trackers: configs pointing at a fake, requests, and counting what a fake holds."""

from __future__ import annotations

import re
import uuid
from collections import Counter

from triage_tui.config import Config, DatabaseConfig, InboxConfig, NylasConfig, TrackingConfig
from triage_tui.domain import Address, TicketFacts, TrackerOp
from triage_tui.trackers.base import ExternalRef, WriteRequest

GRANT = "grant-trk-0001"
KINDS = ("github", "jira", "linear", "zendesk", "webhook")
ENV = {"github": "GITHUB_TOKEN", "jira": "JIRA_API_TOKEN", "linear": "LINEAR_API_KEY",
       "zendesk": "ZENDESK_API_TOKEN", "webhook": "TRIAGE_TUI_TRACKER_WEBHOOK_SECRET"}
MARKER = re.compile(r"triage-tui:write=([0-9a-f-]{36})")


def tracker_settings(kind: str, fake, **overrides) -> dict:
    """The [trackers.NAME] table that points at a running fake."""
    url = fake.url
    base = {
        "github": {"api_url": url, "repo": "acme/support", "min_interval_s": 0.0},
        "jira": {"base_url": url, "project_key": "SUP", "email": "bot@example.com"},
        "linear": {"api_url": f"{url}/graphql", "team_id": "team-sandbox"},
        "zendesk": {"base_url": url, "email": "agent@example.com"},
        "webhook": {"url": f"{url}/hooks/triage"},
    }[kind]
    return {"kind": kind, "timeout_s": 2.0, "reconcile_grace_s": 0.0, **base, **overrides}


def make_config(db_url: str = "sqlite:///:memory:", trackers: dict | None = None, default: str = "local",
                inbox_tracker: str = "", **tracking) -> Config:
    """A config with one inbox, the given trackers, and fast dispatcher settings."""
    return Config.model_validate({
        "tenant_id": "acme", "environment": "test",
        "nylas": NylasConfig(api_uri="http://127.0.0.1:9").model_dump(),
        "inboxes": [InboxConfig(grant_id=GRANT, email="support@acme.example", tracker=inbox_tracker).model_dump()],
        "database": DatabaseConfig(url=db_url).model_dump(),
        "tracking": TrackingConfig(**{"default_tracker": default, "lease_s": 30, "max_backoff_s": 5.0,
                                      "idle_s": 0.05, **tracking}).model_dump(),
        "trackers": trackers or {},
    })


def facts(ticket_id: str | None = None, **extra) -> TicketFacts:
    """The facts of a ticket as phase B will pass them."""
    ticket_id = ticket_id or f"TKT-{uuid.uuid4().hex[:8]}"
    values = dict(ticket_id=ticket_id, grant_id=GRANT, thread_id=f"thr-{ticket_id}", message_id=f"msg-{ticket_id}",
                  subject="Cannot log in", customer_text="Hello,\nI cannot log in since today.",
                  sender=Address(email="jane@customer.example", name="Jane"), category="account_access",
                  urgency="high")
    return TicketFacts(**{**values, **extra})


def request(op: TrackerOp, payload: dict, *, ref: ExternalRef | None = None, crid: str | None = None,
            first: float | None = None, last_sent: float | None = None) -> WriteRequest:
    """A WriteRequest as the dispatcher builds it."""
    return WriteRequest(command_result_id=crid or str(uuid.uuid4()), op=op, ticket_id=payload.get("ticket_id", "TKT-1"),
                        payload=payload, client_id=str(uuid.uuid4()), ref=ref, first_attempt_at=first,
                        last_sent_at=last_sent)


def marker_counts(fake) -> Counter:
    """How many items and comments in the fake carry each write's marker."""
    counts: Counter = Counter()
    for entry in fake.state()["texts"]:
        for crid in set(MARKER.findall(entry["text"])):
            counts[crid] += 1
    return counts
