"""Domain types of sends (re-exported by `triage_tui.domain`): the outbox entry, its state, the API's answer
and what became of the mail afterwards."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from triage_tui.domain import Address


class _Domain(BaseModel):
    model_config = ConfigDict(frozen=True)


class SendResult(_Domain):
    """What the API said about one send."""

    message_id: str
    thread_id: str = ""
    status_code: int = 200
    idempotent_replay: bool = False
    request_id: str = ""


class OutboxState(StrEnum):
    """Where an approved send stands."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENDING = "sending"
    RETRY = "retry"
    SENT = "sent"
    FAILED = "failed"
    REFUSED = "refused"
    EXPIRED = "expired"
    NEEDS_RECONCILIATION = "needs_reconciliation"


class DeliveryReport(_Domain):
    """One delivery-status event about a sent message (message.delivered, bounced, ... send_failed)."""

    status: str
    message_id: str = ""
    command_result_id: str = ""
    detail: str = ""
    at: float = 0.0


class OutboxEntry(_Domain):
    """One approved send in the outbox, as the console and the runbooks see it."""

    command_result_id: str
    kind: str = "reply"
    decision_id: str
    tenant_id: str
    environment: str
    grant_id: str
    reply_to_message_id: str
    thread_id: str = ""
    ticket_id: str = ""
    to: list[Address]
    cc: list[Address] = []
    subject: str
    body: str
    content_hash: str
    state: OutboxState
    approved_by: str
    approved_at: datetime
    expires_at: datetime | None = None
    attempts: int = 0
    first_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    sent_message_id: str = ""
    last_error: str = ""
    not_before: datetime | None = None
    delivery_status: str = ""
    delivery_detail: str = ""
