"""The store-derived metrics: each figure against rows the test wrote, and a dead store or figure."""

from __future__ import annotations

import math
import socket
import time
from datetime import datetime, timedelta, timezone

from peewee import PostgresqlDatabase
from prometheus_client.parser import text_string_to_metric_families

from tests.store.factories import make_message
from triage_tui.config import Config, ConsoleConfig, InboxConfig
from triage_tui.ops.collector import STORE_METRICS, StoreCollector, StoreMetric, store_gauge
from triage_tui.ops.metrics import exposition_registry, render, reset_metrics
from triage_tui.store.control import TRACKER_PAUSE, set_stop_switch
from triage_tui.store.conversations import rebuild
from triage_tui.store.models import (ControlRow, ConversationRow, DecisionRow, OutboxRow, SuggestionRow, TrackerWriteRow,
                                     database)
from triage_tui.store.watermarks import advance_watermark

CONFIG = Config(inboxes=[InboxConfig(grant_id="grant-1", email="a@x.example"),
                         InboxConfig(grant_id="grant-2", email="b@x.example")],
                console=ConsoleConfig(sla_minutes={"critical": 30, "high": 120, "normal": 480, "low": 1440}))


def samples(collector) -> dict:
    page = render(exposition_registry(collector)).decode()
    found = {}
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def get(found: dict, name: str, **labels) -> float:
    return found[(name, tuple(sorted(labels.items())))]


def outbox(kind: str, state: str, n: int) -> None:
    for i in range(n):
        OutboxRow.create(command_result_id=f"{kind}-{state}-{i}", kind=kind, decision_id="d", tenant_id="t",
                         environment="test", grant_id="grant-1", reply_to_message_id="m", to_addrs="[]", subject="s",
                         body="b", content_hash="h", state=state, approved_by="dana", approved_at=1, created_at=1,
                         updated_at=1)


def test_every_store_figure_matches_the_rows_written(db):
    now = time.time()
    make_message(urgency="critical", state="new", received_at=now - 3600)          # past its 30 min SLA
    make_message(urgency="critical", state="needs_human", received_at=now - 60)
    make_message(urgency="high", state="new", received_at=now - 7300)              # past 120 min
    make_message(urgency="low", state="ticket", received_at=now - 30)              # handled: not waiting
    make_message(urgency="normal", state="quarantined", received_at=now - 1)      # never the newest for lag
    for kind, n in (("approve_ticket", 2), ("reject", 1)):
        for i in range(n):
            DecisionRow.create(decision_id=f"{kind}-{i}", grant_id="grant-1", message_id="m", kind=kind,
                               actor="dana", decided_at=now)
    outbox("reply", "sent", 2)
    outbox("reply", "needs_reconciliation", 1)
    outbox("acknowledgement", "pending", 1)
    advance_watermark("grant-1", int(now), now=now - 100)
    found = samples(StoreCollector(CONFIG))
    assert get(found, "triage_messages_waiting", urgency="critical") == 2
    assert get(found, "triage_messages_waiting", urgency="high") == 1
    assert get(found, "triage_messages_waiting", urgency="low") == 0
    assert get(found, "triage_messages_over_sla", urgency="critical") == 1
    assert get(found, "triage_messages_over_sla", urgency="high") == 1
    assert 3599 <= get(found, "triage_messages_waiting_oldest_age_seconds", urgency="critical") < 3700
    assert get(found, "triage_messages_waiting_oldest_age_seconds", urgency="low") == 0
    assert 29 <= get(found, "triage_ingest_lag_seconds", grant_id="grant-1") < 100  # the ticket, not quarantined
    assert get(found, "triage_ingest_lag_seconds", grant_id="grant-2") == math.inf
    assert 99 <= get(found, "triage_last_poll_age_seconds", grant_id="grant-1") < 200
    assert get(found, "triage_last_poll_age_seconds", grant_id="grant-2") == math.inf
    assert get(found, "triage_decisions_total", kind="approve_ticket") == 2
    assert get(found, "triage_decisions_total", kind="reject") == 1
    assert get(found, "triage_outbox_entries", kind="reply", state="sent") == 2
    assert get(found, "triage_outbox_entries", kind="reply", state="needs_reconciliation") == 1
    assert get(found, "triage_outbox_entries", kind="acknowledgement", state="pending") == 1
    assert get(found, "triage_webhook_events_waiting", status="pending") == 0
    assert get(found, "triage_stop_switch_on") == 0
    assert get(found, "triage_stop_switch_last_change_age_seconds") == math.inf
    assert (get(found, "triage_store_up"), get(found, "triage_store_scrape_errors")) == (1, 0)


def test_the_stop_switch_reports_on_and_how_long_and_an_expired_pause_as_off(db):
    set_stop_switch(True, actor="dana", reason="incident 42")
    ControlRow.update(updated_at=time.time() - 2400, since=time.time() - 2400).execute()
    found = samples(StoreCollector(CONFIG))
    assert get(found, "triage_stop_switch_on") == 1
    assert 2399 <= get(found, "triage_stop_switch_last_change_age_seconds") < 2500
    set_stop_switch(True, actor="dana", reason="short", until=datetime.now(timezone.utc) + timedelta(seconds=60))
    ControlRow.update(until=time.time() - 10).execute()
    found = samples(StoreCollector(CONFIG))
    assert get(found, "triage_stop_switch_on") == 0
    assert 9 <= get(found, "triage_stop_switch_last_change_age_seconds") < 100


def test_a_dead_store_says_so_and_keeps_the_process_metrics(db):
    reset_metrics().ingested.labels("grant-1").inc(5)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    live = database.obj
    database.initialize(PostgresqlDatabase("nothing", host="127.0.0.1", port=closed, connect_timeout=2))
    try:
        found = samples(StoreCollector(CONFIG))
    finally:
        database.initialize(live)
    assert get(found, "triage_store_up") == 0
    assert not any(name == "triage_messages_waiting" for name, _ in found)
    assert get(found, "triage_messages_ingested_total", grant_id="grant-1") == 5


def test_one_broken_figure_does_not_hide_the_others(db):
    def broken(scrape):
        raise RuntimeError("a table phase B has not created yet")

    figures = [StoreMetric("triage_broken", "never read", (), broken), *STORE_METRICS]
    found = samples(StoreCollector(CONFIG, metrics=figures))
    assert get(found, "triage_store_scrape_errors") == 1 and get(found, "triage_store_up") == 1
    assert get(found, "triage_stop_switch_on") == 0


def test_a_new_figure_is_one_decorated_function(db):
    before = len(STORE_METRICS)

    @store_gauge("triage_example_figure", "An example.", ("grant_id",))
    def example(scrape):
        return {(grant,): 7 for grant in scrape.config.grant_ids}

    try:
        found = samples(StoreCollector(CONFIG))
        assert get(found, "triage_example_figure", grant_id="grant-2") == 7
    finally:
        del STORE_METRICS[before:]


def test_conversations_waiting_count_each_thread_once_by_urgency_and_sla(db):
    now = time.time()
    for i in range(3):  # one critical thread of three customer messages, the oldest an hour old: one, over
        make_message(urgency="critical", thread_id="thr-late", received_at=now - 3600 + i * 60)
    make_message(urgency="critical", thread_id="thr-fresh", received_at=now - 60)
    make_message(urgency="high", thread_id="thr-answered", received_at=now - 7300)
    make_message(urgency="low", thread_id="thr-pending", received_at=now - 90_000)
    rebuild(now)
    ConversationRow.update(sla_started_at=None).where(ConversationRow.thread_id == "thr-answered").execute()
    ConversationRow.update(state="pending", ticket_status="pending").where(
        ConversationRow.thread_id == "thr-pending").execute()  # waiting on the customer, not on us
    found = samples(StoreCollector(CONFIG))
    assert get(found, "triage_messages_waiting", urgency="critical") == 4
    assert get(found, "triage_conversations_waiting", urgency="critical", sla="over") == 1
    assert get(found, "triage_conversations_waiting", urgency="critical", sla="within") == 1
    assert get(found, "triage_conversations_waiting", urgency="high", sla="over") == 0
    assert get(found, "triage_conversations_waiting", urgency="low", sla="over") == 0
    assert 3599 <= get(found, "triage_conversations_waiting_oldest_age_seconds", urgency="critical") < 3700
    assert get(found, "triage_conversations_waiting_oldest_age_seconds", urgency="high") == 0


def test_tracker_writes_and_their_pause_are_exported(db):
    for i, state in enumerate(("pending", "failed", "failed", "done")):
        TrackerWriteRow.create(command_result_id=f"tw-{i}", dedupe_key=f"k-{i}", tracker="gh", kind="github",
                               op="create", ticket_id=f"TKT-{i}", state=state, created_at=1, updated_at=1)
    set_stop_switch(True, actor="dana", reason="tracker outage", key=TRACKER_PAUSE)
    found = samples(StoreCollector(CONFIG))
    assert get(found, "triage_tracker_write_entries", tracker="gh", state="failed") == 2
    assert get(found, "triage_tracker_write_entries", tracker="gh", state="pending") == 1
    assert get(found, "triage_tracker_pause_on") == 1


def test_provisional_suggestions_are_exported(db):
    rows = [make_message(thread_id=f"thr-{i}") for i in range(3)]
    for i, row in enumerate(rows):
        SuggestionRow.create(message=row, category="billing", urgency="normal", confidence=0.5,
                             classification_version="rules-x", created_at=1, provisional=i < 2)
    assert get(samples(StoreCollector(CONFIG)), "triage_suggestions_provisional") == 2
