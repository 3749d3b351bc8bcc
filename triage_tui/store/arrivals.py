"""What newly stored mail does to its conversation (inside the ingest write transaction).

Every message counts (message count, latest activity, our replies answer what came before), but
only a customer's message newer than the last reply or decision changes a state: it brings a
rejected, snoozed or automated-only conversation back into the queue, and reopens a pending or
solved ticket through `tickets.customer_message_arrived`. Auto-replies, bounces, list mail, loop
suspects and our own mail never do, before or after a ticket exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from triage_tui.domain import ConversationState, MailKind, MessageState
from triage_tui.store import conversations, tickets
from triage_tui.store.models import ConversationRow, MessageRow

if TYPE_CHECKING:
    from triage_tui.store.message_rows import RowPlan
    from triage_tui.store.tickets import TicketChange

# Conversations that held no customer mail until now (a page of older mail can bring the first one).
_NO_CUSTOMER_YET = (ConversationState.AUTOMATED.value, ConversationState.QUARANTINED.value)
_UNTRIAGED = {MessageState.NEW.value: ConversationState.NEW,
              MessageState.NEEDS_HUMAN.value: ConversationState.NEEDS_HUMAN}


def apply_arrivals(fresh: list["RowPlan"], keys: dict[str, int], rows: dict[str, ConversationRow],
                   now: float) -> list["TicketChange"]:
    """Update the conversations these new messages joined; returns the ticket transitions made."""
    created = {row.id for row in rows.values() if row.message_count == 0}
    touched = sorted({plan.conversation_id for plan in fresh if plan.conversation_id is not None})
    conversations.adopt_tickets([cid for cid in touched if cid not in created])
    conversations.derive(touched, now)
    new_ones = [cid for cid in touched if cid in created]
    if new_ones:
        conversations.initial_states(new_ones, now)
    changes: list[TicketChange] = []
    arrivals = sorted((p for p in fresh if p.kind == MailKind.CUSTOMER.value and p.conversation_id is not None
                       and p.conversation_id not in created), key=lambda p: (p.received, p.message_id))
    for plan in arrivals:
        conversation = ConversationRow.get_by_id(plan.conversation_id)
        never_triaged = conversation.state in _NO_CUSTOMER_YET
        if not never_triaged and conversation.answered_at is not None and plan.received < conversation.answered_at:
            continue  # before the second of our last reply or decision: counted, but it moves nothing
        if conversation.ticket_id:
            change = tickets.customer_message_arrived(conversation, MessageRow.get_by_id(keys[plan.message_id]),
                                                      at=now)
            if change is not None:
                changes.append(change)
        else:
            state = _UNTRIAGED.get(plan.state, ConversationState.NEW)
            conversations.set_state(conversation.id, state, now)
    conversations.remove_empty(sorted(created - set(touched)))
    return changes
