"""Domain types of tracker writes (re-exported by `triage_tui.domain`): facts, writes, links, problems."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from triage_tui.domain import Address


class _Domain(BaseModel):
    model_config = ConfigDict(frozen=True)


class TicketFacts(_Domain):
    """What a tracker is told when a ticket is created; `customer_text` and `subject` are untrusted."""

    ticket_id: str
    grant_id: str
    thread_id: str
    message_id: str = ""
    subject: str = ""
    customer_text: str = ""
    sender: Address = Address(email="")
    category: str
    urgency: str
    received_at: datetime | None = None
    inbox_email: str = ""


class TrackerOp(StrEnum):
    """The three kinds of tracker write."""

    CREATE = "create"
    COMMENT = "comment"
    STATUS = "status"


class TrackerStatus(StrEnum):
    """Ticket status changes a tracker is told about."""

    SOLVED = "solved"
    REOPENED = "reopened"


class TrackerWriteState(StrEnum):
    """Where a tracker write stands."""

    PENDING = "pending"
    CLAIMED = "claimed"
    WRITING = "writing"
    RETRY = "retry"
    DONE = "done"
    FAILED = "failed"
    NEEDS_RECONCILIATION = "needs_reconciliation"


class TrackerLink(_Domain):
    """Where a ticket lives in one tracker: the key people use and the URL to open."""

    ticket_id: str
    tracker: str
    kind: str
    external_id: str
    external_key: str
    url: str = ""
    created_at: datetime | None = None


class TrackerWriteEntry(_Domain):
    """One tracker write as `tickets list`, `status` and the console show it."""

    command_result_id: str
    tracker: str
    kind: str
    op: TrackerOp
    ticket_id: str
    grant_id: str = ""
    thread_id: str = ""
    state: TrackerWriteState
    attempts: int = 0
    outcome_unknown: bool = False
    waiting_for_create: bool = False
    last_error: str = ""
    error_kind: str = ""
    not_before: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    done_at: datetime | None = None


class TicketTracking(_Domain):
    """A ticket's external links and the tracker writes still to land (or failed)."""

    ticket_id: str
    grant_id: str = ""
    thread_id: str = ""
    links: list[TrackerLink] = []
    open_writes: list[TrackerWriteEntry] = []


class TrackerProblem(_Domain):
    """One line for the console header and `status`: a tracker refusing us, down, paused or needing a human."""

    tracker: str
    kind: str
    problem: str
    line: str
    count: int = 0
