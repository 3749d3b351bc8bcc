"""Duplicate storm: several deliverers send the same messages through webhook events and polls at once."""

from __future__ import annotations

import random
import threading

from peewee import fn

from triage_tui.ingest.worker import CycleReport, Worker
from triage_tui.store.models import AuditRow, MessageRow, SuggestionRow, database
from triage_tui.store.text import loads
from triage_tui.store.webhook_events import pending_count, record_event

from .conftest import gateway_for

DELIVERERS = 4
MESSAGES = 200


def test_duplicate_storm_ends_in_one_row_and_one_suggestion_per_message(db, make_sandbox, ingest_config,
                                                                       rules_classifier):
    sandbox = make_sandbox(messages=MESSAGES)
    message_ids = sorted(sandbox.truth())
    assert len(message_ids) == MESSAGES
    config = ingest_config(sandbox, page_limit=200, max_pages_per_poll=5)
    seen = []
    errors = []
    start = threading.Barrier(DELIVERERS)

    def deliverer(index: int) -> None:
        try:
            worker = Worker(config, gateway_for(config, sandbox), rules_classifier)
            order = message_ids[:]
            random.Random(index).shuffle(order)
            start.wait()
            for message_id in order:
                record_event(f"d{index}-{message_id}", grant_id=sandbox.grant_id, message_id=message_id,
                             trigger="message.created", raw=b"{}")
            cycle = CycleReport()
            worker.poll_all(cycle)
            while pending_count():
                worker.drain(cycle, limit=50)
            seen.append(cycle.report.seen)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            database.close()

    threads = [threading.Thread(target=deliverer, args=(i,)) for i in range(DELIVERERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    deliveries = sum(seen)
    # every webhook copy, plus at least one full poll (pollers share the stored sweep, so a poller
    # that starts after another finished lists only the overlap window)
    assert DELIVERERS * MESSAGES + MESSAGES <= deliveries <= 2 * DELIVERERS * MESSAGES
    assert MessageRow.select().count() == MESSAGES
    assert {r.message_id for r in MessageRow.select()} == set(message_ids)
    most = (SuggestionRow.select(fn.COUNT(SuggestionRow.id).alias("n")).group_by(SuggestionRow.message)
            .order_by(fn.COUNT(SuggestionRow.id).desc()).limit(1).scalar())
    assert most == 1
    absorbed = sum(loads(a.detail)["count"] for a in AuditRow.select().where(AuditRow.action == "ingest.duplicate"))
    assert absorbed == deliveries - MESSAGES
    assert AuditRow.select().where(AuditRow.action == "ingest.stored").count() == MESSAGES
