"""The counts behind `triage-tui status`: queue, tickets, outbox, stop switch, last sync."""

from __future__ import annotations

from datetime import datetime

from peewee import fn
from pydantic import BaseModel, ConfigDict

from triage_tui.domain import MessageState, StopSwitch
from triage_tui.store.control import read_stop_switch
from triage_tui.store.models import ConversationRow, MessageRow, OutboxRow, SuggestionRow, ThreadRow, TicketRow
from triage_tui.store.text import from_epoch
from triage_tui.store.watermarks import all_watermarks
from triage_tui.store.webhook_events import event_counts

PENDING_STATES = (MessageState.NEW.value, MessageState.NEEDS_HUMAN.value)


class GrantSync(BaseModel):
    """When a grant last synced, and its last error."""

    model_config = ConfigDict(frozen=True)

    grant_id: str
    last_sync_at: datetime | None = None
    received_after: datetime | None = None
    last_error: str = ""


class StoreStatus(BaseModel):
    """Every count `status` prints."""

    model_config = ConfigDict(frozen=True)

    messages: int
    threads: int
    pending_suggestions: int
    tickets: int
    tickets_by_status: dict[str, int] = {}
    conversations_by_state: dict[str, int] = {}
    quarantined: int
    messages_by_state: dict[str, int]
    outbox_by_state: dict[str, int]
    webhook_events_by_status: dict[str, int]
    stop_switch: StopSwitch
    last_sync: list[GrantSync]


def store_status() -> StoreStatus:
    """Read every count from the bound database."""
    by_state = _grouped(MessageRow, MessageRow.state)
    pending = (
        SuggestionRow.select()
        .join(MessageRow)
        .where(MessageRow.state.in_(PENDING_STATES))
        .count()
    )
    return StoreStatus(
        messages=sum(by_state.values()),
        threads=ThreadRow.select().count(),
        pending_suggestions=pending,
        tickets=TicketRow.select().count(),
        tickets_by_status=_grouped(TicketRow, TicketRow.status),
        conversations_by_state=_grouped(ConversationRow, ConversationRow.state),
        quarantined=by_state.get(MessageState.QUARANTINED.value, 0),
        messages_by_state=by_state,
        outbox_by_state=_grouped(OutboxRow, OutboxRow.state),
        webhook_events_by_status=event_counts(),
        stop_switch=read_stop_switch(),
        last_sync=[
            GrantSync(grant_id=w.grant_id, last_sync_at=from_epoch(w.last_sync_at),
                      received_after=from_epoch(w.received_after) if w.received_after else None,
                      last_error=w.last_error)
            for w in all_watermarks()
        ],
    )


def _grouped(model, column) -> dict[str, int]:
    query = model.select(column.alias("key"), fn.COUNT(model._meta.primary_key).alias("n")).group_by(column)
    return {row.key: row.n for row in query.objects()}
