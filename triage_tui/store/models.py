"""The peewee schema for the whole data contract; times are epoch seconds (UTC)."""

from __future__ import annotations

from peewee import (
    AutoField,
    BigIntegerField,
    BlobField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DoubleField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

database = DatabaseProxy()


class BaseModel(Model):
    """Every table binds to the one configured database."""

    class Meta:
        database = database
        legacy_table_names = False


class Meta(BaseModel):
    """Key/value facts about the store itself, such as the schema version."""

    key = CharField(primary_key=True)
    value = TextField()


class MessageRow(BaseModel):
    """The hot row of one inbound message: what the queue sorts, filters and shows."""

    id = AutoField()
    tenant_id = CharField()
    environment = CharField()
    agent_account_email = CharField(default="")
    grant_id = CharField()
    workspace_id = CharField(default="")
    policy_id = CharField(default="")
    rule_ids = TextField(default="[]")
    message_id = CharField()
    thread_id = CharField(default="")
    folder_ids = TextField(default="[]")
    label_ids = TextField(default="[]")
    dedupe_key = CharField(default="")
    subject = TextField(default="")
    sender_email = CharField(default="")
    sender_name = CharField(default="")
    received_at = DoubleField()
    state = CharField(default="new")
    category = CharField(default="")
    urgency = CharField(default="normal")
    # critical=0, high=1, normal=2, low=3: the queue reads ascending on one index.
    urgency_rank = IntegerField(default=2)
    confidence = DoubleField(default=0.0)
    flags = TextField(default="[]")
    ticket_id = CharField(default="")
    classification_version = CharField(default="")
    webhook_trigger = CharField(default="")
    webhook_received_at = DoubleField(null=True)
    event_id = CharField(default="")
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    snooze_until = DoubleField(null=True)
    created_at = DoubleField()
    updated_at = DoubleField()
    # customer, own_outbound, bounce, auto_reply, loop_suspected, mailing_list or quarantined
    kind = CharField(default="customer")
    # The RFC 5322 Message-ID (NULL when the mail has none): a second copy is absorbed, never stored.
    rfc_message_id = CharField(null=True)
    conversation_id = IntegerField(null=True)
    # For a bounce: the message id of our reply it reports on.
    bounce_of = CharField(default="")
    unread = BooleanField(default=True)
    starred = BooleanField(default=False)
    # "junk" or "trash" while a message.updated has it there (out of the queue), else "".
    hidden_in = CharField(default="")
    # The signed `time` of the newest message.updated applied: an older one never overwrites it.
    mail_version = DoubleField(default=0.0)

    class Meta:
        table_name = "messages"
        indexes = (
            (("grant_id", "message_id"), True),
            (("grant_id", "thread_id"), False),
            (("urgency_rank", "received_at", "id"), False),
            (("state", "urgency_rank", "received_at", "id"), False),
            (("grant_id", "received_at"), False),  # the newest message per inbox (ingest lag metric)
            (("grant_id", "rfc_message_id"), True),
            (("conversation_id", "kind", "received_at"), False),
        )


class ConversationRow(BaseModel):
    """The hot row of one conversation (grant + thread): what the queue sorts, filters and shows.

    Kept in the same transaction as every ingest, decision and ticket transition that changes it.
    """

    id = AutoField()
    tenant_id = CharField()
    environment = CharField()
    grant_id = CharField()
    thread_id = CharField()  # the API thread id, or the message id of mail without one
    state = CharField(default="new")
    ticket_id = CharField(default="")
    ticket_status = CharField(default="")
    message_key = IntegerField(null=True)  # the latest customer message (else the latest message)
    message_id = CharField(default="")
    subject = TextField(default="")
    sender_email = CharField(default="")
    sender_name = CharField(default="")
    category = CharField(default="")
    urgency = CharField(default="normal")
    urgency_rank = IntegerField(default=2)
    confidence = DoubleField(default=0.0)
    flags = TextField(default="[]")
    message_count = IntegerField(default=0)
    customer_count = IntegerField(default=0)
    latest_at = DoubleField(default=0.0)
    last_customer_at = DoubleField(null=True)
    answered_at = DoubleField(null=True)  # customer mail up to here is answered or decided
    sla_started_at = DoubleField(null=True)  # the oldest customer message waiting on us
    sort_at = DoubleField(default=0.0)
    snooze_until = DoubleField(null=True)
    created_at = DoubleField()
    updated_at = DoubleField()

    class Meta:
        table_name = "conversations"
        indexes = (
            (("grant_id", "thread_id"), True),
            (("state", "urgency_rank", "sort_at", "id"), False),
            (("ticket_status", "urgency_rank", "sort_at", "id"), False),
        )


class MessageBody(BaseModel):
    """The cold part of a message: bodies, headers and everything only the thread view needs."""

    message = ForeignKeyField(MessageRow, unique=True, on_delete="CASCADE", backref="bodies")
    body_text = TextField(default="")
    body_html = TextField(default="")
    snippet = TextField(default="")
    headers = TextField(default="[]")
    to_addrs = TextField(default="[]")
    cc_addrs = TextField(default="[]")
    reply_to = TextField(default="[]")
    attachments = TextField(default="[]")
    internet_message_id = TextField(default="")
    in_reply_to = TextField(default="")
    references = TextField(default="[]")
    hidden_characters = TextField(default="[]")
    signals = TextField(default="{}")
    truncated = BooleanField(default=False)

    class Meta:
        table_name = "message_bodies"


class ThreadRow(BaseModel):
    """A thread of one grant, and the ticket it became (if any)."""

    grant_id = CharField()
    thread_id = CharField()
    subject = TextField(default="")
    message_ids = TextField(default="[]")
    participants = TextField(default="[]")
    latest_message_at = DoubleField(null=True)
    ticket_id = CharField(default="")
    updated_at = DoubleField()

    class Meta:
        table_name = "threads"
        indexes = ((("grant_id", "thread_id"), True),)


class SuggestionRow(BaseModel):
    """The one suggestion a message gets (unique per message)."""

    message = ForeignKeyField(MessageRow, unique=True, on_delete="CASCADE", backref="suggestions")
    category = CharField()
    urgency = CharField()
    confidence = DoubleField()
    reasons = TextField(default="[]")
    classification_version = CharField()
    needs_human = BooleanField(default=False)
    created_at = DoubleField()
    # From the quick members of the chain at ingest; the worker upgrades it with the whole chain.
    provisional = BooleanField(default=False, index=True)

    class Meta:
        table_name = "suggestions"


class TicketRow(BaseModel):
    """A ticket: one per (grant, thread)."""

    ticket_id = CharField(unique=True)
    tenant_id = CharField()
    environment = CharField()
    grant_id = CharField()
    thread_id = CharField()
    category = CharField()
    urgency = CharField()
    status = CharField(default="open")
    created_at = DoubleField()
    created_by = CharField()
    decision_id = CharField(default="")
    updated_at = DoubleField(null=True)

    class Meta:
        table_name = "tickets"
        indexes = ((("grant_id", "thread_id"), True),)


class DecisionRow(BaseModel):
    """A human decision about a message; also a training label."""

    decision_id = CharField(unique=True)
    grant_id = CharField()
    message_id = CharField()
    thread_id = CharField(default="")
    kind = CharField()
    category = CharField(default="")
    urgency = CharField(default="")
    reason = TextField(default="")
    actor = CharField()
    decided_at = DoubleField()
    ticket_id = CharField(default="")
    snooze_until = DoubleField(null=True)
    command_result_id = CharField(default="")

    class Meta:
        table_name = "decisions"
        indexes = ((("grant_id", "message_id"), False), (("decided_at",), False))


class OutboxRow(BaseModel):
    """An approved send waiting for (or past) the dispatcher; bound to a content hash."""

    command_result_id = CharField(unique=True)
    kind = CharField(default="reply")
    decision_id = CharField()
    tenant_id = CharField()
    environment = CharField()
    grant_id = CharField()
    reply_to_message_id = CharField()
    thread_id = CharField(default="")
    ticket_id = CharField(default="")
    to_addrs = TextField()
    cc_addrs = TextField(default="[]")
    subject = TextField()
    body = TextField()
    content_hash = CharField()
    state = CharField(default="pending")
    approved_by = CharField()
    approved_at = DoubleField()
    expires_at = DoubleField(null=True)
    attempts = IntegerField(default=0)
    lease_owner = CharField(default="")
    lease_expires_at = DoubleField(null=True)
    fencing_token = BigIntegerField(default=0)
    first_attempt_at = DoubleField(null=True)
    sent_at = DoubleField(null=True)
    sent_message_id = CharField(default="")
    last_error = TextField(default="")
    created_at = DoubleField()
    updated_at = DoubleField()
    # What the delivery webhooks said (outbound/delivery.py): "", delivered, complaint, bounced,
    # rejected or failed; the worst one reported wins whatever the order of arrival.
    delivery_status = CharField(default="")
    delivery_detail = TextField(default="")
    delivery_at = DoubleField(null=True)

    class Meta:
        table_name = "outbox"
        indexes = ((("state", "created_at"), False), (("grant_id", "sent_at"), False))


class AuditRow(BaseModel):
    """One side effect, with every id of the data contract that applies."""

    id = AutoField()
    at = DoubleField()
    actor = CharField()
    action = CharField()
    tenant_id = CharField(default="")
    environment = CharField(default="")
    agent_account_email = CharField(default="")
    grant_id = CharField(default="")
    workspace_id = CharField(default="")
    policy_id = CharField(default="")
    rule_ids = TextField(default="[]")
    message_id = CharField(default="")
    thread_id = CharField(default="")
    ticket_id = CharField(default="")
    decision_id = CharField(default="")
    event_id = CharField(default="")
    dedupe_key = CharField(default="")
    webhook_trigger = CharField(default="")
    webhook_received_at = DoubleField(null=True)
    classification_version = CharField(default="")
    command_result_id = CharField(default="")
    detail = TextField(default="{}")

    class Meta:
        table_name = "audit"
        indexes = ((("at",), False), (("action",), False), (("message_id",), False))


class ControlRow(BaseModel):
    """Operational switches shared by every console and worker (the stop switch)."""

    key = CharField(primary_key=True)
    on = BooleanField(default=False)
    actor = CharField(default="")
    reason = TextField(default="")
    since = DoubleField(null=True)
    until = DoubleField(null=True)
    version = BigIntegerField(default=0)
    updated_at = DoubleField()

    class Meta:
        table_name = "control"


class WebhookEventRow(BaseModel):
    """A durable webhook notification, stored before the 200 is sent."""

    id = AutoField()
    event_id = CharField(unique=True)
    grant_id = CharField(default="")
    message_id = CharField(default="")
    trigger = CharField(default="")
    received_at = DoubleField()
    raw = BlobField()
    status = CharField(default="pending")
    attempts = IntegerField(default=0)
    error = TextField(default="")
    processed_at = DoubleField(null=True)

    class Meta:
        table_name = "webhook_events"
        indexes = ((("status", "id"), False),)


class WatermarkRow(BaseModel):
    """How far the poller has safely ingested one grant."""

    grant_id = CharField(primary_key=True)
    received_after = BigIntegerField(default=0)
    last_sync_at = DoubleField(null=True)
    last_error = TextField(default="")

    class Meta:
        table_name = "watermarks"


class ReviewLease(BaseModel):
    """Who in the team is looking at a message right now."""

    message = ForeignKeyField(MessageRow, unique=True, on_delete="CASCADE", backref="leases")
    holder = CharField()
    expires_at = DoubleField()

    class Meta:
        table_name = "review_leases"


class TrackerWriteRow(BaseModel):
    """One write to an external tracker (create, comment, status), claimed like an outbox entry."""

    id = AutoField()
    command_result_id = CharField(unique=True)
    dedupe_key = CharField(unique=True)
    tracker = CharField()
    kind = CharField()
    op = CharField()
    ticket_id = CharField()
    tenant_id = CharField(default="")
    environment = CharField(default="")
    grant_id = CharField(default="")
    thread_id = CharField(default="")
    message_id = CharField(default="")
    decision_id = CharField(default="")
    payload = TextField(default="{}")
    client_id = CharField(default="")
    state = CharField(default="pending")
    attempts = IntegerField(default=0)
    unknown_attempts = IntegerField(default=0)
    outcome_unknown = BooleanField(default=False)
    lease_owner = CharField(default="")
    lease_expires_at = DoubleField(null=True)
    fencing_token = BigIntegerField(default=0)
    not_before = DoubleField(null=True)
    first_attempt_at = DoubleField(null=True)
    last_sent_at = DoubleField(null=True)
    done_at = DoubleField(null=True)
    remote_id = CharField(default="")
    last_error = TextField(default="")
    error_kind = CharField(default="")
    created_by = CharField(default="")
    created_at = DoubleField()
    updated_at = DoubleField()

    class Meta:
        table_name = "tracker_writes"
        indexes = (
            (("state", "not_before"), False),
            (("ticket_id", "tracker", "id"), False),
            (("tracker", "state", "id"), False),
        )


class TrackerLinkRow(BaseModel):
    """Where a ticket lives in a tracker: its external key and URL (one per ticket and tracker)."""

    ticket_id = CharField()
    tracker = CharField()
    kind = CharField()
    external_id = CharField()
    external_key = CharField()
    url = TextField(default="")
    command_result_id = CharField(default="")
    tenant_id = CharField(default="")
    grant_id = CharField(default="")
    thread_id = CharField(default="")
    created_at = DoubleField()

    class Meta:
        table_name = "tracker_links"
        indexes = ((("ticket_id", "tracker"), True), (("grant_id", "thread_id"), False))


ALL_TABLES = [
    Meta,
    MessageRow,
    MessageBody,
    ConversationRow,
    ThreadRow,
    SuggestionRow,
    TicketRow,
    DecisionRow,
    OutboxRow,
    AuditRow,
    ControlRow,
    WebhookEventRow,
    WatermarkRow,
    ReviewLease,
    TrackerWriteRow,
    TrackerLinkRow,
]
