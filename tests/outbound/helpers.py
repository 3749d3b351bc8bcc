"""Test helpers for outbound: configs, stored inbound messages (optionally also in the sandbox)."""

from __future__ import annotations

import itertools
import json
import time

from triage_tui.config import Config, DatabaseConfig, InboxConfig, NylasConfig, OutboundConfig
from triage_tui.store.db import write_transaction
from triage_tui.store.models import MessageBody, MessageRow

GRANT = "grant-test-0001"
AGENT = "support@acme.nylas.email"
_counter = itertools.count(1)


def make_config(db_url: str, *, api_uri: str = "http://127.0.0.1:9", grant_id: str = GRANT,
                email: str = AGENT, environment: str = "test", production: bool = False,
                **outbound) -> Config:
    """A config with one inbox, the given database, and outbound overrides."""
    return Config(
        tenant_id="acme",
        environment=environment,
        nylas=NylasConfig(api_uri=api_uri, max_requests_per_s=10_000, max_backoff_s=2.0, timeout_s=10),
        inboxes=[InboxConfig(grant_id=grant_id, email=email, workspace_id="ws", policy_id="pol",
                             production=production)],
        database=DatabaseConfig(url=db_url),
        outbound=OutboundConfig(**outbound),
    )


def store_message(*, grant_id: str = GRANT, message_id: str | None = None, thread_id: str = "",
                  sender: str = "alice@customer.example", sender_name: str = "Alice",
                  reply_to: list[dict] | None = None, headers: dict | None = None,
                  subject: str = "Help", body: str = "Please help", ticket_id: str = "") -> str:
    """Insert an ingested message (hot row + body) the way ingest stores it; returns its id."""
    message_id = message_id or f"msg-{next(_counter)}"
    now = time.time()
    with write_transaction():
        row = MessageRow.create(
            tenant_id="acme", environment="test", agent_account_email=AGENT, grant_id=grant_id,
            message_id=message_id, thread_id=thread_id or f"thr-{message_id}", subject=subject,
            sender_email=sender, sender_name=sender_name, received_at=now, created_at=now, updated_at=now,
            ticket_id=ticket_id,
        )
        MessageBody.create(
            message=row, body_text=body,
            headers=json.dumps([[k, v] for k, v in (headers or {}).items()]),  # the ingest format
            reply_to=json.dumps(reply_to or []),
        )
    return message_id


def deliver_and_store(sandbox, *, subject: str, sender: str = "alice@customer.example", **kw) -> str:
    """Deliver a message into the sandbox and store it as ingest would, under the sandbox's id."""
    made = sandbox.deliver(**{"from": sender, "to": [sandbox.email], "subject": subject,
                              "body": kw.pop("body", "Please help")})
    return store_message(grant_id=sandbox.grant_id, message_id=made["id"], thread_id=made["thread_id"],
                         sender=sender, subject=subject, **kw)
