"""The pipeline over real HTTP against the bundled sandbox: seeded mailbox, bounded polls, poison, events."""

from __future__ import annotations

from collections import Counter

import pytest

from triage_tui.ingest.pipeline import Pipeline
from triage_tui.ingest.poller import Poller
from triage_tui.ingest.runner import sync_once
from triage_tui.ingest.worker import CycleReport, Worker
from triage_tui.store.models import (AuditRow, ConversationRow, MessageBody, MessageRow, SuggestionRow, TicketRow,
                                     WebhookEventRow)
from triage_tui.store.text import loads
from triage_tui.store.watermarks import read_watermark
from triage_tui.store.webhook_events import record_event

from .conftest import gateway_for

AUTOMATED_KINDS = {"auto_reply", "bounce", "mailing_list", "own_outbound"}


def test_whole_seeded_mailbox_ingests_flagged_and_truthful(db, sandbox, ingest_config, rules_classifier):
    config = ingest_config(sandbox, page_limit=100)
    report = sync_once(config, gateway=gateway_for(config, sandbox), classifier=rules_classifier)
    truth = sandbox.truth()
    rows = {row.message_id: row for row in MessageRow.select()}
    assert report.failed == 0 and report.errors == []
    assert set(rows) == set(truth) and len(rows) == report.stored == len(truth)
    suggested = {s.message.message_id for s in SuggestionRow.select(SuggestionRow, MessageRow).join(MessageRow)}
    kinds = Counter(t["kind"] for t in truth.values())
    assert kinds["auto_reply"] and kinds["bounce"] and kinds["mailing_list"] and kinds["large_body"]
    for message_id, facts in truth.items():
        row = rows[message_id]
        if facts["kind"] in AUTOMATED_KINDS:
            assert "automated" in loads(row.flags), (facts, row.subject)
            assert row.state == "dismissed" and message_id not in suggested
        else:
            assert "automated" not in loads(row.flags), (facts, row.subject, row.flags)
            assert message_id in suggested
        if facts["kind"] == "large_body":
            body = MessageBody.get(MessageBody.message == row.id)
            assert row.state == "quarantined" or (body.truncated and "truncated" in loads(row.flags))
        assert (row.workspace_id, row.policy_id, row.tenant_id) == ("ws-1", "pol-1", "acme")
    assert read_watermark(sandbox.grant_id).received_after == int(max(r.received_at for r in rows.values()))
    # one conversation per thread (a bounce joins the reply it reports on), each message counted once
    conversations = list(ConversationRow.select())
    assert sum(c.message_count for c in conversations) == len(rows)
    bounced = {r.thread_id for r in rows.values() if r.bounce_of}
    assert len(conversations) == len({r.thread_id for r in rows.values()} - bounced)
    for c in conversations:
        kinds = {r.kind for r in rows.values() if r.conversation_id == c.id}
        assert (c.state == "automated") == ("customer" not in kinds and "quarantined" not in kinds), (c.state, kinds)
    again = sync_once(config, gateway=gateway_for(config, sandbox), classifier=rules_classifier)
    assert again.stored == 0 and MessageRow.select().count() == len(truth)


def test_bounded_polls_resume_after_a_restart_and_move_the_watermark_only_at_the_end(
        db, make_sandbox, ingest_config, rules_classifier):
    sandbox = make_sandbox(messages=60)
    config = ingest_config(sandbox, page_limit=10, max_pages_per_poll=2)
    gateway = gateway_for(config, sandbox)
    results = []
    while True:
        # a new Poller each time: the sweep's progress must come from the store, as after a crash
        result = Poller(config, gateway, Pipeline(config, gateway, rules_classifier)).poll(sandbox.grant_id)
        results.append(result)
        if result.complete:
            break
        assert read_watermark(sandbox.grant_id).received_after == 0
        assert len(results) < 20
    assert len(results) > 2 and all(r.pages <= 2 for r in results)
    assert MessageRow.select().count() == len(sandbox.truth())
    assert sum(r.report.stored for r in results) == len(sandbox.truth())
    assert sum(r.report.duplicates for r in results) <= 2 * len(results)  # only same-second ties repeat
    assert read_watermark(sandbox.grant_id).received_after > 0


class PoisonOn:
    """The real classifier, except that it fails on one subject (a message that breaks a classifier)."""

    name = "poison"

    def __init__(self, inner, subject: str) -> None:
        self.inner, self.subject = inner, subject

    @property
    def version(self) -> str:
        return self.inner.version

    def classify(self, message):
        if message.subject == self.subject:
            raise ValueError("classifier exploded on this message")
        return self.inner.classify(message)


def test_poison_message_is_quarantined_after_max_attempts_without_blocking(db, make_sandbox, ingest_config,
                                                                        rules_classifier):
    sandbox = make_sandbox(messages=20)
    bad = sandbox.deliver(subject="Poison pill", body="boom", **{"from": "eve@customer.example"})
    config = ingest_config(sandbox, max_attempts=3)
    gateway = gateway_for(config, sandbox)
    worker = Worker(config, gateway, PoisonOn(rules_classifier, "Poison pill"))
    first = worker.cycle()
    assert first.report.stored == MessageRow.select().count() == len(sandbox.truth())
    assert first.report.failed >= 1  # the poll, then the retry queue in the same cycle
    assert MessageRow.get_or_none(MessageRow.message_id == bad["id"]) is None
    worker.cycle()
    row = MessageRow.get(MessageRow.message_id == bad["id"])
    assert row.state == "quarantined" and row.attempts == 3
    assert "classifier exploded" in row.last_error
    event = WebhookEventRow.get(WebhookEventRow.message_id == bad["id"])
    assert event.status == "quarantined"
    assert AuditRow.select().where(AuditRow.action == "ingest.quarantined").count() == 1


def test_webhook_events_drain_through_the_pipeline(db, make_sandbox, ingest_config, rules_classifier):
    sandbox = make_sandbox(messages=0)
    config = ingest_config(sandbox)
    gateway = gateway_for(config, sandbox)
    first = sandbox.deliver(subject="Invoice charged twice", body="refund please",
                            headers={"Message-ID": "<first@customer.example>"}, **{"from": "ana@customer.example"})
    big = sandbox.deliver(subject="Huge log", body="log line\n" * 150_000, **{"from": "bo@customer.example"})
    TicketRow.create(ticket_id="T-1", tenant_id="acme", environment="test", grant_id=sandbox.grant_id,
                     thread_id=first["thread_id"], category="billing", urgency="high", created_at=1,
                     created_by="oncall")
    follow = sandbox.deliver(subject="Re: Invoice charged twice", body="any news?",
                             headers={"In-Reply-To": "<first@customer.example>"},
                             **{"from": "ana@customer.example"})
    for event_id, message_id, trigger in [("e1", first["id"], "message.created"),
                                          ("e2", first["id"], "message.updated"),
                                          ("e3", big["id"], "message.created.truncated"),
                                          ("e4", follow["id"], "message.created"),
                                          ("e5", "no-such-message", "message.created"),
                                          ("e6", first["id"], "grant.updated")]:
        record_event(event_id, grant_id=sandbox.grant_id, message_id=message_id, trigger=trigger, raw=b"{}")
    worker = Worker(config, gateway, rules_classifier)
    cycle = CycleReport()
    worker.drain(cycle)
    statuses = {e.event_id: e.status for e in WebhookEventRow.select()}
    assert statuses == {"e1": "done", "e2": "done", "e3": "done", "e4": "done", "e5": "gone", "e6": "ignored"}
    assert follow["thread_id"] == first["thread_id"]
    assert MessageRow.select().count() == 3
    big_row = MessageRow.get(MessageRow.message_id == big["id"])
    assert len(MessageBody.get(MessageBody.message == big_row.id).body_text) > 1_000_000 // 2
    linked = MessageRow.get(MessageRow.message_id == follow["id"])
    assert (linked.state, linked.ticket_id) == ("ticket", "T-1")
    duplicate = AuditRow.get(AuditRow.action == "ingest.duplicate")
    assert duplicate.event_id == "e2" and loads(duplicate.detail)["count"] == 1


def test_single_message_ingest_is_idempotent(db, make_sandbox, ingest_config, rules_classifier):
    sandbox = make_sandbox(messages=0)
    config = ingest_config(sandbox)
    sent = sandbox.deliver(subject="Login broken", body="cannot sign in", **{"from": "ana@customer.example"})
    pipeline = Pipeline(config, gateway_for(config, sandbox), rules_classifier)
    first = pipeline.ingest(sandbox.grant_id, sent["id"], "message.created", event_id="e1")
    again = pipeline.ingest(sandbox.grant_id, sent["id"], "message.created", event_id="e2")
    assert (first.stored, first.suggested, again.stored, again.duplicates) == (1, 1, 0, 1)
    assert pipeline.ingest(sandbox.grant_id, "missing", "message.created").gone == 1
    row = MessageRow.get()
    assert (row.event_id, row.webhook_trigger, row.classification_version) == (
        "e1", "message.created", rules_classifier.classifiers[0].version)
    with pytest.raises(Exception, match="not a configured inbox"):
        pipeline.ingest("someone-else", sent["id"], "poll")


def test_worker_retrains_after_enough_new_decisions(db, make_sandbox, ingest_config):
    from triage_tui.classify.chain import build_classifier
    from triage_tui.config import ClassifierConfig
    from triage_tui.store.models import DecisionRow

    sandbox = make_sandbox(messages=12)
    config = ingest_config(sandbox)
    config = config.model_copy(update={"classifier": ClassifierConfig(chain=["learned", "rules"], retrain_after=3,
                                                                      min_training_examples=3)})
    classifier = build_classifier(config.classifier)
    worker = Worker(config, gateway_for(config, sandbox), classifier)
    worker.cycle()
    assert worker.maybe_retrain() is False
    learned = classifier.classifiers[0]
    before = learned.version
    for i, row in enumerate(MessageRow.select().limit(4)):
        DecisionRow.create(decision_id=f"d{i}", grant_id=row.grant_id, message_id=row.message_id,
                           kind="approve_ticket", category=["billing", "bug"][i % 2], actor="oncall", decided_at=i)
    assert worker.maybe_retrain() is True
    assert learned.wait(timeout=30), "the background retrain did not finish within 30 s"
    assert learned.version != before and learned.retrain_count == 1


def test_one_mail_delivered_under_two_api_ids_and_two_webhook_events_is_stored_once(
        db, make_sandbox, ingest_config, rules_classifier):
    sandbox = make_sandbox(messages=0)
    config = ingest_config(sandbox)
    same = dict(subject="Invoice charged twice", body="please refund", headers={"Message-ID": "<twice@customer.example>"},
                **{"from": "ana@customer.example"})
    first, second = sandbox.deliver(**same), sandbox.deliver(**same)
    assert first["id"] != second["id"] and first["thread_id"] == second["thread_id"]  # the copy joins the thread
    record_event("e1", grant_id=sandbox.grant_id, message_id=first["id"], trigger="message.created", raw=b"{}")
    record_event("e2", grant_id=sandbox.grant_id, message_id=second["id"], trigger="message.created", raw=b"{}")
    worker = Worker(config, gateway_for(config, sandbox), rules_classifier)
    worker.drain(CycleReport())
    assert {e.event_id: e.status for e in WebhookEventRow.select()} == {"e1": "done", "e2": "done"}
    assert MessageRow.select().count() == 1 and SuggestionRow.select().count() == 1
    assert ConversationRow.get().message_count == 1
    duplicate = AuditRow.get(AuditRow.action == "ingest.duplicate")
    assert duplicate.event_id == "e2"
    assert loads(duplicate.detail)["by"] == "rfc_message_id" and loads(duplicate.detail)["duplicate_of"] == first["id"]
    polled = sync_once(config, gateway=gateway_for(config, sandbox), classifier=rules_classifier)
    assert polled.stored == 0 and MessageRow.select().count() == 1
