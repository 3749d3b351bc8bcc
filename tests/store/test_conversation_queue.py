"""The conversation queue: keyset windows over one row per thread, ticket status filters, index-only scans."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.store.factories import BASE_TIME, group_conversations, make_message, make_messages
from triage_tui.config import Config
from triage_tui.domain import QueueCursor, QueueFilter
from triage_tui.store.db import write_transaction
from triage_tui.store.decisions import approve_ticket, solve_ticket
from triage_tui.store.models import ConversationRow, MessageRow
from triage_tui.store.queue import cursor_of, header_stats, parse_query, queue_count, queue_window
from triage_tui.store.tickets import reply_sent

NOW = BASE_TIME + 10_000_000
CATEGORIES = ["billing", "bug", "account_access", "feature_request", "spam", "other"]
URGENCIES = ["low", "normal", "high", "critical"]
END = QueueCursor(urgency_rank=1_000_000, received_at=1e18, key=2**62)


def parse(text: str) -> QueueFilter:
    return parse_query(text, categories=CATEGORIES, urgencies=URGENCIES)


def pages(flt: QueueFilter, size: int) -> tuple[list[int], list[int]]:
    """Every key, paging forward from the start and backward from the end."""
    forward, cursor = [], None
    while window := queue_window(flt, after=cursor, limit=size, now=NOW):
        forward += [item.key for item in window]
        cursor = cursor_of(window[-1])
    backward, cursor = [], END
    while window := queue_window(flt, before=cursor, limit=size, now=NOW):
        backward = [item.key for item in window] + backward
        cursor = cursor_of(window[0])
    return forward, backward


def oracle(flt: QueueFilter) -> list[int]:
    """The filter restated naively over the conversation rows."""
    def wanted(c: ConversationRow) -> bool:
        if flt.statuses:
            if c.ticket_status not in flt.statuses or (flt.states and c.state not in flt.states):
                return False
        elif flt.states:
            if c.state not in flt.states:
                return False
        elif not (c.state in ("new", "needs_human", "open") or (c.state == "snoozed" and c.snooze_until <= NOW)):
            return False
        if flt.categories and c.category not in flt.categories:
            return False
        return not flt.urgencies or c.urgency in flt.urgencies
    rows = [c for c in ConversationRow.select() if wanted(c)]
    return [c.id for c in sorted(rows, key=lambda c: (c.urgency_rank, c.sort_at, c.id))]


@pytest.fixture
def tickets_in_every_status(db):
    """120 messages in 40 threads plus states, three tickets: open, pending and solved."""
    make_messages(120, per_thread=3)
    make_messages(12, start=120, per_thread=3, state="needs_human")
    make_messages(12, start=132, per_thread=3, state="dismissed")
    make_messages(6, start=144, per_thread=3, state="snoozed", snooze_until=NOW - 60)
    group_conversations(NOW)
    config = Config()
    first = {c.thread_id: c.message_key for c in ConversationRow.select()}
    keys = [first[f"thr-{i:07d}"] for i in (0, 1, 2)]
    for key in keys:
        approve_ticket(key, actor="ana", config=config, category="bug", now=NOW)
    with write_transaction():
        for key in keys[1:]:
            row = MessageRow.get_by_id(key)
            reply_sent(row.grant_id, row.message_id, at=NOW + 1, actor="dispatcher")
    solve_ticket(keys[2], actor="ana", config=config, now=NOW + 2)
    return keys


QUERIES = ["", "status:open", "status:pending,solved", "is:ticket", "is:all", "is:dismissed,snoozed",
           "urg:high,low cat:bug", "status:all is:open"]


def test_conversation_windows_visit_each_conversation_once_in_order(tickets_in_every_status):
    for query in QUERIES:
        flt = parse(query)
        expected = oracle(flt)
        assert expected, f"{query!r} must select something for the test to mean anything"
        forward, backward = pages(flt, 7)
        assert forward == expected and backward == expected, query
        assert queue_count(flt, now=NOW) == len(expected), query


def test_one_row_per_thread_with_its_count_and_the_open_queue_is_what_waits_on_us(tickets_in_every_status):
    items = queue_window(QueueFilter(), limit=1000, now=NOW)
    assert len({i.thread_id for i in items}) == len(items) and all(i.message_count == 3 for i in items)
    assert {i.state for i in items} == {"new", "needs_human", "open", "snoozed"}
    statuses = {i.ticket_status for i in queue_window(parse("is:ticket"), limit=1000, now=NOW)}
    assert statuses == {"open", "pending", "solved"}
    assert header_stats(now=NOW).queue_depth == len(items) == 40 + 4 + 2 - 2


def test_mail_grouped_from_a_message_store_keeps_each_message_once(db):
    make_messages(50, per_thread=5)
    make_message(thread_id="", message_id="lonely")  # mail without a thread is a conversation of its own
    assert group_conversations(NOW) == 11
    assert group_conversations(NOW) == 0   # nothing left to group
    assert sum(c.message_count for c in ConversationRow.select()) == MessageRow.select().count()
    assert ConversationRow.get(ConversationRow.thread_id == "lonely").message_count == 1


def test_conversation_windows_on_thousands_of_threads_read_only_index_ranges(db):
    from triage_tui.store import queue as queue_module
    from triage_tui.store.db import is_sqlite

    make_messages(6_000, seed=5, per_thread=3)
    group_conversations(NOW)
    if not is_sqlite():
        db.execute_sql("ANALYZE conversations")
    deep = ConversationRow.select().order_by(ConversationRow.urgency_rank, ConversationRow.sort_at,
                                             ConversationRow.id).offset(1_200).first()
    cursor = QueueCursor(urgency_rank=deep.urgency_rank, received_at=deep.sort_at, key=deep.id)
    assert len(queue_window(QueueFilter(), after=cursor, limit=50, now=NOW)) == 50
    for flt in (QueueFilter(), parse("status:open,pending"), parse("urg:high,low is:all")):
        for backward in (False, True):
            for query in queue_module._scans(flt, NOW, cursor, backward):
                sql, params = query.limit(50).sql()
                if is_sqlite():
                    plan = " | ".join(r[-1] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
                    assert "USE TEMP B-TREE" not in plan and "SCAN" not in plan.replace("SEARCH", ""), plan
                    assert "conversations_state_" in plan or "conversations_ticket_status_" in plan, plan
                else:
                    plan = " | ".join(r[0] for r in db.execute_sql("EXPLAIN " + sql, params))
                    assert "Sort" not in plan and "Seq Scan" not in plan, plan


_rows = st.lists(st.tuples(st.sampled_from(["new", "needs_human", "snoozed", "dismissed"]),
                           st.sampled_from(URGENCIES), st.integers(0, 5), st.integers(1, 3)),
                 max_size=25)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_rows, query=st.sampled_from(["", "is:all", "urg:low,critical", "is:new,snoozed"]),
       size=st.integers(1, 6))
def test_any_conversation_queue_pages_exactly_once_both_ways(db, rows, query, size):
    MessageRow.delete().execute()
    ConversationRow.delete().execute()
    for index, (state, urgency, tick, count) in enumerate(rows):
        for n in range(count):
            make_message(state=state, urgency=urgency, thread_id=f"t{index}", received_at=BASE_TIME + tick + n,
                         snooze_until=(NOW - 1 if tick % 2 else NOW + 100) if state == "snoozed" else None)
    group_conversations(NOW)
    flt = parse(query)
    forward, backward = pages(flt, size)
    assert forward == oracle(flt) == backward
