"""The message view of the queue: query language, keyset windows that visit every row once, counts.

The conversation view (the default) is tested in test_conversation_queue.py on the same machinery.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.store.factories import BASE_TIME, group_conversations, make_message, make_messages
from triage_tui.domain import MessageState, QueueCursor, QueueFilter
from triage_tui.store.leases import take_review_lease
from triage_tui.store.models import MessageRow, OutboxRow
from triage_tui.store.queue import (
    QUERY_HELP,
    QueryError,
    cursor_of,
    header_stats,
    parse_query,
    queue_count,
    queue_version,
    queue_window,
)

CATEGORIES = ["billing", "bug", "account_access", "feature_request", "spam", "other"]
URGENCIES = ["low", "normal", "high", "critical"]
RANK = {"critical": 0, "high": 1, "normal": 2, "low": 3}
NOW = BASE_TIME + 10_000_000


MESSAGES = QueueFilter(messages=True)


def parse(text: str) -> QueueFilter:
    return parse_query(text + " view:messages", categories=CATEGORIES, urgencies=URGENCIES)


# --- the query language ---------------------------------------------------------------


def test_every_key_and_its_long_form_is_understood():
    found = parse("cat:billing category:bug urg:HIGH urgency:critical from:Acme.com is:quarantined "
                  "state:needs_human Refund now")
    assert found.categories == ["billing", "bug"]
    assert found.urgencies == ["high", "critical"]
    assert found.senders == ["acme.com"]
    assert found.states == [MessageState.QUARANTINED, MessageState.NEEDS_HUMAN]
    assert found.words == ["Refund", "now"] and found.messages


def test_commas_and_repeats_give_several_values_without_duplicates():
    found = parse("cat:billing,bug cat:bug is:new,ticket urg:low,,low")
    assert found.categories == ["billing", "bug"]
    assert found.states == [MessageState.NEW, MessageState.TICKET]
    assert found.urgencies == ["low"]


def test_is_all_selects_every_state_and_empty_query_is_the_open_queue():
    assert parse("is:all").states == list(MessageState)
    assert parse("   ") == MESSAGES


def test_quoted_text_is_searched_literally_even_with_a_colon():
    assert parse('"re: invoice" later').words == ["re: invoice", "later"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("colour:red", "unknown key 'colour:'"),
        ("status:open", "status: works on conversations"),
        ("https://example.com", "unknown key 'https:'"),
        ("cat:nonsense", "unknown category 'nonsense'; use one of: billing"),
        ("urg:urgent", "unknown urgency 'urgent'"),
        ("is:open", "unknown state 'open'; use one of: new, needs_human"),
        ("cat:", "'cat:' needs a value, e.g. cat:billing"),
        ('"unclosed', "unclosed quote"),
    ],
)
def test_bad_queries_raise_a_clear_query_error(text, message):
    with pytest.raises(QueryError, match=message.replace("(", r"\(")):
        parse(text)


def test_query_help_names_every_key():
    for key in ("cat:", "urg:", "from:", "is:"):
        assert key in QUERY_HELP


# --- keyset windows -----------------------------------------------------------------------


def expected_order(rows: list[MessageRow]) -> list[int]:
    return [r.id for r in sorted(rows, key=lambda r: (r.urgency_rank, r.received_at, r.id))]


def page_forward(flt: QueueFilter, size: int, now: float = NOW) -> list[int]:
    seen, cursor = [], None
    while True:
        window = queue_window(flt, after=cursor, limit=size, now=now)
        if not window:
            return seen
        assert len(window) <= size
        seen += [item.key for item in window]
        assert len(seen) == len(set(seen)), "a row came back twice"
        cursor = cursor_of(window[-1])


def page_backward(flt: QueueFilter, size: int, start, now: float = NOW) -> list[int]:
    seen, cursor = [], start
    while True:
        window = queue_window(flt, before=cursor, limit=size, now=now)
        if not window:
            return seen
        seen = [item.key for item in window] + seen
        assert len(seen) == len(set(seen)), "a row came back twice"
        cursor = cursor_of(window[0])


@pytest.fixture
def mixed_queue(db):
    """300 messages over every state; some share a received_at to exercise the id tie-break."""
    make_messages(200)
    make_messages(40, start=200, state="needs_human")
    make_messages(20, start=240, state="ticket")
    make_messages(10, start=260, state="quarantined")
    make_messages(10, start=270, state="snoozed", snooze_until=NOW - 60)
    make_messages(10, start=280, state="snoozed", snooze_until=NOW + 3600)
    make_messages(10, start=290, received_at=BASE_TIME + 500)
    return list(MessageRow.select())


@pytest.mark.parametrize(
    "query",
    ["", "urg:high,low", "cat:billing,bug", "from:acme", "about", "is:all", "is:snoozed,ticket",
     "cat:bug urg:critical,normal from:acme.com invoice"],
)
def test_paging_forward_and_backward_visits_every_row_once_in_order(mixed_queue, query):
    flt = parse(query)
    expected = expected_order([r for r in mixed_queue if _matches(r, flt)])
    assert expected, "the filter must select something for the test to mean anything"
    assert page_forward(flt, 7) == expected
    last = queue_window(flt, after=None, limit=1000, now=NOW)[-1]
    backward = page_backward(flt, 9, cursor_of(last))
    assert backward == expected[:-1]


def test_open_queue_holds_new_needs_human_and_woken_snoozes_only(mixed_queue):
    keys = set(page_forward(MESSAGES, 50))
    states = {r.id: (r.state, r.snooze_until) for r in mixed_queue}
    assert {states[k][0] for k in keys} == {"new", "needs_human", "snoozed"}
    assert all(states[k][1] <= NOW for k in keys if states[k][0] == "snoozed")
    assert len(keys) == 200 + 40 + 10 + 10


def test_window_starts_critical_first_then_oldest(mixed_queue):
    window = queue_window(MESSAGES, limit=30, now=NOW)
    positions = [(RANK[i.urgency], i.received_at, i.key) for i in window]
    assert positions == sorted(positions)
    assert window[0].urgency == "critical"


def test_rows_inserted_between_pages_neither_repeat_nor_skip_existing_rows(db):
    make_messages(120, received_at=None)
    before = {r.id for r in MessageRow.select()}
    seen, cursor, page = [], None, 0
    while True:
        window = queue_window(MESSAGES, after=cursor, limit=10, now=NOW)
        if not window:
            break
        seen += [item.key for item in window]
        cursor = cursor_of(window[-1])
        page += 1
        assert page < 100, "paging must end"
        if page <= 6:
            # new mail arrives while someone scrolls: before, at and after the cursor position
            make_message(urgency=window[-1].urgency, received_at=window[-1].sort_received_at)
            make_message(urgency="critical", received_at=BASE_TIME - page)
            make_message(urgency="low", received_at=BASE_TIME + 9_000_000 + page)
    assert len(seen) == len(set(seen))
    assert before <= set(seen)
    later = {r.id for r in MessageRow.select()} - before
    assert len(later & set(seen)) == 12  # the at-cursor and later-than-cursor arrivals show up


def test_window_fills_lease_holders_and_flags(db):
    key = make_message(flags='["auto_reply", "reply_to_differs"]', urgency="critical")
    take_review_lease(key, holder="ana", now=NOW - 10)
    item = queue_window(MESSAGES, limit=1, now=NOW)[0]
    assert item.key == key
    assert item.lease_holder == "ana"
    assert item.flags == ["auto_reply", "reply_to_differs"]
    expired = queue_window(MESSAGES, limit=1, now=NOW + 3600)[0]
    assert expired.lease_holder == ""


def test_words_are_case_insensitive_and_all_must_match(db):
    hit = make_message(subject="Refund for INVOICE 42", sender_email="ana@acme.com")
    make_message(subject="Refund request", sender_email="bo@other.org")
    make_message(subject="invoice copy", sender_email="cy@other.org")
    found = queue_window(parse("refund invoice"), now=NOW)
    assert [i.key for i in found] == [hit]
    assert [i.key for i in queue_window(parse("from:ACME.com"), now=NOW)] == [hit]


def test_passing_both_cursors_is_refused(db):
    key = make_message()
    item = queue_window(MESSAGES, now=NOW)[0]
    assert item.key == key
    with pytest.raises(ValueError):
        queue_window(MESSAGES, after=cursor_of(item), before=cursor_of(item))


def test_count_is_exact_below_the_cap_and_capped_above(mixed_queue):
    assert queue_count(MESSAGES, now=NOW) == 260
    assert queue_count(parse("is:all"), now=NOW) == 300
    assert queue_count(MESSAGES, cap=100, now=NOW) == 100
    assert queue_count(parse("is:quarantined"), now=NOW) == 10


# --- header figures and change detection ---------------------------------------------------


def test_header_stats_reports_depth_oldest_sends_spark_and_quarantine(db):
    now = BASE_TIME + 100_000
    make_messages(3, received_at=now - 30)            # this minute
    make_messages(2, start=3, received_at=now - 125)  # two minutes ago
    oldest = make_message(state="needs_human", urgency="low", received_at=now - 86_400)
    make_message(state="quarantined", received_at=now - 10)
    make_message(state="dismissed", received_at=now - 100_000)
    for index, state in enumerate(["pending", "retry", "sent", "claimed"]):
        OutboxRow.create(
            command_result_id=f"cr-{index}", decision_id="d", tenant_id="t", environment="test",
            grant_id="g", reply_to_message_id="m", to_addrs="[]", subject="s", body="b",
            content_hash="h", state=state, approved_by="ana", approved_at=now, created_at=now,
            updated_at=now,
        )
    group_conversations(now)
    stats = header_stats(now=now)
    assert stats.queue_depth == 6 and not stats.queue_depth_capped
    assert stats.oldest_unhandled_at.timestamp() == MessageRow.get_by_id(oldest).received_at
    assert stats.sends_waiting == 3
    assert len(stats.inbound_per_minute) == 30
    assert stats.inbound_per_minute[-1] == 4 and stats.inbound_per_minute[-3] == 2
    assert sum(stats.inbound_per_minute) == 6
    assert stats.quarantined == 1
    assert header_stats(now=now, cap=5).queue_depth_capped


def test_queue_version_changes_on_new_mail_leases_and_woken_snoozes(db):
    key = make_message(state="snoozed", snooze_until=NOW + 60)
    first = queue_version(now=NOW)
    assert queue_version(now=NOW) == first
    assert queue_version(now=NOW + 120) != first  # the snooze woke up
    make_message()
    second = queue_version(now=NOW)
    assert second != first
    take_review_lease(key, holder="ana", now=NOW)
    assert queue_version(now=NOW) != second


def _matches(row: MessageRow, flt: QueueFilter) -> bool:
    """The filter, restated naively in Python, as the test's oracle."""
    if flt.states:
        if row.state not in set(flt.states):
            return False
    elif not (row.state in ("new", "needs_human") or (row.state == "snoozed" and row.snooze_until <= NOW)):
        return False
    if flt.categories and row.category not in flt.categories:
        return False
    if flt.urgencies and row.urgency not in flt.urgencies:
        return False
    if flt.senders and not any(s in row.sender_email.lower() for s in flt.senders):
        return False
    haystack = f"{row.subject} {row.sender_email} {row.sender_name}".lower()
    return all(w.lower() in haystack for w in flt.words)


# --- scale -----------------------------------------------------------------------------------


def test_window_on_100k_rows_reads_only_index_ranges(db):
    from triage_tui.store import queue as queue_module
    from triage_tui.store.db import is_sqlite

    make_messages(100_000, seed=3)
    flt = MESSAGES
    first = queue_window(flt, limit=50, now=NOW)
    assert len(first) == 50 and first[0].urgency == "critical"
    deep_row = (
        MessageRow.select()
        .where(MessageRow.urgency_rank == 3)
        .order_by(MessageRow.received_at, MessageRow.id)
        .offset(20_000)
        .first()
    )
    deep = queue_window(flt, after=_cursor_of_row(deep_row), limit=50, now=NOW)
    back = queue_window(flt, before=_cursor_of_row(deep_row), limit=50, now=NOW)
    assert len(deep) == 50 and len(back) == 50
    assert deep[0].sort_received_at >= deep_row.received_at
    assert back[-1].sort_received_at <= deep_row.received_at
    if not is_sqlite():
        db.execute_sql("ANALYZE messages")
    cursor = _cursor_of_row(deep_row)
    for flt in (MESSAGES, parse("urg:high,low cat:bug from:acme invoice"), parse("is:all")):
        for backward in (False, True):
            for query in queue_module._scans(flt, NOW, cursor, backward):
                sql, params = query.limit(50).sql()
                if is_sqlite():
                    plan = " | ".join(r[-1] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
                    assert "USE TEMP B-TREE" not in plan, plan
                    assert "SCAN" not in plan.replace("SEARCH", ""), plan
                    assert "messages_state_urgency_rank_received_at_id" in plan, plan
                elif not (flt.categories or flt.words):
                    # PostgreSQL plans by cost: a very selective filter may rightly prefer a bitmap
                    # scan and a small sort, so only the plain windows are pinned to the index.
                    plan = " | ".join(r[0] for r in db.execute_sql("EXPLAIN " + sql, params))
                    assert "Sort" not in plan and "Seq Scan" not in plan, plan


def _cursor_of_row(row: MessageRow) -> QueueCursor:
    return QueueCursor(urgency_rank=row.urgency_rank, received_at=row.received_at, key=row.id)


# --- property: any data, any page size, any filter -----------------------------------------

_rows = st.lists(
    st.tuples(
        st.sampled_from(["new", "needs_human", "ticket", "snoozed", "dismissed"]),
        st.sampled_from(URGENCIES),
        st.integers(min_value=0, max_value=6),  # few distinct times: many ties on received_at
        st.sampled_from(["bug", "billing", "other"]),
    ),
    min_size=0,
    max_size=40,
)
_queries = st.sampled_from(["", "is:all", "urg:low,critical", "cat:bug is:new,snoozed", "urg:normal is:all"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_rows, query=_queries, size=st.integers(min_value=1, max_value=7))
def test_any_queue_pages_exactly_once_both_ways(db, rows, query, size):
    MessageRow.delete().execute()
    for state, urgency, tick, category in rows:
        make_message(state=state, urgency=urgency, received_at=BASE_TIME + tick, category=category,
                     snooze_until=(NOW - 1 if tick % 2 else NOW + 100) if state == "snoozed" else None)
    flt = parse(query)
    expected = expected_order([r for r in MessageRow.select() if _matches(r, flt)])
    assert page_forward(flt, size) == expected
    end = QueueCursor(urgency_rank=1_000_000, received_at=1e18, key=2**62)
    assert page_backward(flt, size, end) == expected
