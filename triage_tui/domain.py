"""Plain pydantic types that cross every boundary; no ORM, no textual."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Domain(BaseModel):
    model_config = ConfigDict(frozen=True)


class Address(_Domain):
    """A mailbox: an email address and an optional display name."""

    email: str
    name: str = ""


class Header(_Domain):
    """One raw mail header, in the order the message carried it."""

    name: str
    value: str


class Attachment(_Domain):
    """Attachment metadata; content is never downloaded by default."""

    id: str = ""
    filename: str = ""
    content_type: str = ""
    size: int = 0
    is_inline: bool = False


class MailKind(StrEnum):
    """What kind of mail a message is; automated kinds never create, move or reopen a ticket.

    When a message shows several signs, the first kind in this order wins (SIGNAL_PRECEDENCE):
    our own outbound mail, a bounce, an auto-reply, a suspected loop, list mail, then a customer.
    """

    CUSTOMER = "customer"
    OWN_OUTBOUND = "own_outbound"
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    LOOP_SUSPECTED = "loop_suspected"
    MAILING_LIST = "mailing_list"
    QUARANTINED = "quarantined"


SIGNAL_PRECEDENCE = (
    MailKind.OWN_OUTBOUND, MailKind.BOUNCE, MailKind.AUTO_REPLY, MailKind.LOOP_SUSPECTED, MailKind.MAILING_LIST,
)


class MailSignals(_Domain):
    """What the headers and text say about a message before anyone reads it.

    At most one of the automated flags is set: the winner of SIGNAL_PRECEDENCE (the evidence for
    every other sign stays in `reasons`).
    """

    auto_reply: bool = False
    bounce: bool = False
    mailing_list: bool = False
    own_outbound: bool = False
    loop_suspected: bool = False
    hidden_characters: list[str] = []
    reply_to_differs: bool = False
    reasons: list[str] = []

    @property
    def kind(self) -> MailKind:
        """The one kind this message is, by SIGNAL_PRECEDENCE."""
        for kind in SIGNAL_PRECEDENCE:
            if getattr(self, kind.value):
                return kind
        return MailKind.CUSTOMER

    @property
    def automated(self) -> bool:
        """True when the message must never become a ticket, nor move, reopen or re-queue one."""
        return self.kind is not MailKind.CUSTOMER


class InboundMessage(_Domain):
    """A normalised inbound message: aware datetimes, plain text, no NUL."""

    grant_id: str
    message_id: str
    thread_id: str = ""
    subject: str = ""
    sender: Address = Address(email="")
    to: list[Address] = []
    cc: list[Address] = []
    reply_to: list[Address] = []
    received_at: datetime
    snippet: str = ""
    body_text: str = ""
    body_html: str = ""
    folder_ids: list[str] = []
    label_ids: list[str] = []
    headers: list[Header] = []
    attachments: list[Attachment] = []
    internet_message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = []
    unread: bool = True
    starred: bool = False
    hidden_characters: list[str] = []
    truncated: bool = False

    def header(self, name: str) -> str | None:
        """The first header with this name (case-insensitive), or None."""
        wanted = name.lower()
        return next((h.value for h in self.headers if h.name.lower() == wanted), None)

    def header_values(self, name: str) -> list[str]:
        """Every value of a header that may repeat."""
        wanted = name.lower()
        return [h.value for h in self.headers if h.name.lower() == wanted]


class ThreadInfo(_Domain):
    """A thread as the API describes it (ids and participants, not bodies)."""

    grant_id: str
    thread_id: str
    subject: str = ""
    message_ids: list[str] = []
    participants: list[Address] = []
    earliest_message_at: datetime | None = None
    latest_message_at: datetime | None = None


class Suggestion(_Domain):
    """A classifier's suggestion; an enum from config, never free text that acts."""

    category: str
    urgency: str
    confidence: float = Field(ge=0.0, le=1.0)
    reasons: list[str] = []
    classification_version: str
    needs_human: bool = False
    provisional: bool = False  # from the quick classifiers at ingest; the whole chain follows


class MessageState(StrEnum):
    """Where a message stands in the queue."""

    NEW = "new"
    NEEDS_HUMAN = "needs_human"
    TICKET = "ticket"
    REPLIED = "replied"
    DISMISSED = "dismissed"
    SNOOZED = "snoozed"
    QUARANTINED = "quarantined"


class ConversationState(StrEnum):
    """Where a conversation (one grant + thread) stands; the open queue is NEW, NEEDS_HUMAN, OPEN."""

    NEW = "new"
    NEEDS_HUMAN = "needs_human"
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    DISMISSED = "dismissed"
    SNOOZED = "snoozed"
    QUARANTINED = "quarantined"
    AUTOMATED = "automated"
    # Every customer message of it was moved to Junk or Trash (message.updated); moving one back restores it.
    JUNK = "junk"
    TRASH = "trash"


class TicketStatus(StrEnum):
    """A ticket's lifecycle: open (waiting on us) -> pending (we replied) -> solved; back to open."""

    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"


class DecisionKind(StrEnum):
    """What a person (or, for ticket transitions, the worker) decided about a conversation."""

    APPROVE_TICKET = "approve_ticket"
    REJECT = "reject"
    SNOOZE = "snooze"
    DISMISS_SPAM = "dismiss_spam"
    APPROVE_REPLY = "approve_reply"
    TICKET_PENDING = "ticket_pending"
    SOLVE_TICKET = "solve_ticket"
    REOPEN_TICKET = "reopen_ticket"


class Decision(_Domain):
    """A human decision; also a training label when it names a category."""

    decision_id: str
    grant_id: str
    message_id: str
    thread_id: str = ""
    kind: DecisionKind
    category: str = ""
    urgency: str = ""
    reason: str = ""
    actor: str
    decided_at: datetime
    ticket_id: str = ""
    snooze_until: datetime | None = None


class Ticket(_Domain):
    """The record a thread becomes once a person approves it."""

    ticket_id: str
    tenant_id: str
    environment: str
    grant_id: str
    thread_id: str
    category: str
    urgency: str
    created_at: datetime
    created_by: str
    status: str = "open"


class QueueItem(_Domain):
    """One row of the console queue (a conversation, or one message in the message view)."""

    key: int
    grant_id: str
    message_id: str
    thread_id: str
    subject: str
    sender: str
    received_at: datetime
    state: str
    category: str = ""
    urgency: str = "normal"
    confidence: float = 0.0
    flags: list[str] = []
    ticket_id: str = ""
    lease_holder: str = ""
    # The exact stored sort position, so a keyset cursor never drifts through datetime rounding.
    sort_rank: int | None = None
    sort_received_at: float | None = None
    # A conversation row: `key` is the conversation; decisions and replies go to `message_key`,
    # its latest customer message. A message row has message_key == key.
    conversation: bool = False
    message_key: int = 0
    conversation_key: int | None = None
    message_count: int = 1
    ticket_status: str = ""
    sla_started_at: datetime | None = None
    # Where the ticket lives in an external tracker (empty for the local one or before the create lands).
    ticket_key: str = ""
    ticket_url: str = ""

    @property
    def decision_key(self) -> int:
        """The message a decision or a reply about this row is recorded against."""
        return self.message_key or self.key


class Reply(_Domain):
    """A reply as the approver saw it: exactly what will be sent."""

    grant_id: str
    reply_to_message_id: str
    to: list[Address]
    cc: list[Address] = []
    subject: str
    body: str


class StopSwitch(_Domain):
    """The incident stop switch: when on, no send starts."""

    on: bool = False
    actor: str = ""
    reason: str = ""
    since: datetime | None = None
    until: datetime | None = None


class AuditEvent(_Domain):
    """One side effect, tied to the message, thread, ticket and decision it came from."""

    action: str
    actor: str
    at: datetime
    tenant_id: str = ""
    environment: str = ""
    agent_account_email: str = ""
    grant_id: str = ""
    workspace_id: str = ""
    policy_id: str = ""
    rule_ids: list[str] = []
    message_id: str = ""
    thread_id: str = ""
    ticket_id: str = ""
    decision_id: str = ""
    event_id: str = ""
    dedupe_key: str = ""
    webhook_trigger: str = ""
    webhook_received_at: datetime | None = None
    classification_version: str = ""
    command_result_id: str = ""
    detail: dict[str, Any] = {}


class RuleEvaluation(_Domain):
    """Which Agent Account policy and rules evaluated one inbound message, and what they did."""

    grant_id: str
    message_id: str
    policy_id: str = ""
    workspace_id: str = ""
    rule_ids: list[str] = []
    actions: list[str] = []
    evaluated_at: datetime | None = None


class QueueFilter(_Domain):
    """What the queue shows; empty states and statuses mean the open queue (waiting on us).

    `states` are conversation states, or message states in the message view (`messages=True`);
    `statuses` are ticket statuses (conversations only).
    """

    categories: list[str] = []
    urgencies: list[str] = []
    states: list[str] = []
    statuses: list[str] = []
    senders: list[str] = []
    words: list[str] = []
    messages: bool = False


class QueueCursor(_Domain):
    """A position in the queue order (urgency_rank, received_at, key) for keyset paging."""

    urgency_rank: int
    received_at: float
    key: int


class HeaderStats(_Domain):
    """The figures the console header shows."""

    queue_depth: int = 0
    queue_depth_capped: bool = False
    oldest_unhandled_at: datetime | None = None
    sends_waiting: int = 0
    inbound_per_minute: list[int] = []
    quarantined: int = 0
    send_failures: int = 0
    latest_failure: str = ""
    tracker_alert: str = ""
    paused_inboxes: list[str] = []


class MessageDetail(_Domain):
    """Everything the thread view shows about one queued message and its conversation."""

    item: QueueItem
    message: InboundMessage
    signals: MailSignals
    suggestion: Suggestion | None = None
    thread: list[InboundMessage] = []
    last_error: str = ""
    conversation: QueueItem | None = None
    # message id -> a line shown on that message's card (automated kind, "bounce of the reply above")
    notes: dict[str, str] = {}


class ReviewLeaseState(_Domain):
    """Who holds the review lease on a message, and whether this call took it."""

    holder: str
    expires_at: datetime
    taken: bool
    previous_holder: str = ""


class MailUpdate(_Domain):
    """The flags and folders a message.updated reports (None: the payload did not say)."""

    message_id: str
    folder_ids: tuple[str, ...] | None = None
    unread: bool | None = None
    starred: bool | None = None


_OUTBOUND_TYPES = {"DeliveryReport", "OutboxEntry", "OutboxState", "SendResult"}
_TRACKER_TYPES = {"TicketFacts", "TicketTracking", "TrackerLink", "TrackerOp", "TrackerProblem", "TrackerStatus",
                  "TrackerWriteEntry", "TrackerWriteState"}


def __getattr__(name: str):
    """Send and tracker types live in domain_outbound.py and domain_trackers.py (this file's size); import
    them from here."""
    if name in _OUTBOUND_TYPES:
        from triage_tui import domain_outbound

        return getattr(domain_outbound, name)
    if name in _TRACKER_TYPES:
        from triage_tui import domain_trackers

        return getattr(domain_trackers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
