"""Ingest suggests with the quick classifiers; the worker upgrades with embed once the inbox is caught up."""

from __future__ import annotations

import json
import time

from triage_tui.classify.chain import build_classifier
from triage_tui.config import ClassifierConfig, Config, DatabaseConfig, InboxConfig, NylasConfig, WorkerConfig
from triage_tui.ingest.runner import sync_once
from triage_tui.ingest.worker import CycleReport, Worker
from triage_tui.nylas.gateway import Gateway
from triage_tui.store import decisions
from triage_tui.store.leases import take_review_lease
from triage_tui.store.models import AuditRow, ConversationRow, MessageRow, SuggestionRow
from triage_tui.store.suggestion_upgrades import provisional, upgrade

CHAIN = ["embed", "rules"]


def _config(sandbox, db_url) -> Config:
    return Config(
        tenant_id="acme", environment="test",
        nylas=NylasConfig(api_uri=sandbox.api_uri, max_requests_per_s=1000, max_retries=2, max_backoff_s=0.2),
        inboxes=[InboxConfig(grant_id=g, email=sandbox.sandbox.grants[g]["email"]) for g in sandbox.grant_ids],
        database=DatabaseConfig(url=db_url), worker=WorkerConfig(poll_interval_s=0.2, page_limit=50),
        classifier=ClassifierConfig(chain=CHAIN),
    )


def _customer_suggestions() -> list[SuggestionRow]:
    return list(SuggestionRow.select(SuggestionRow, MessageRow).join(MessageRow))


def test_ingest_stores_rules_answers_then_the_worker_upgrades_them_once(embed_on, db, db_url, make_sandbox) -> None:
    sandbox = make_sandbox(seed=3, messages=40)
    config = _config(sandbox, db_url)
    classifier = build_classifier(config.classifier)
    assert [c.name for c in classifier.classifiers] == CHAIN
    worker = Worker(config, Gateway(config.nylas, sandbox.api_key), classifier)
    cycle = CycleReport()
    worker.poll_all(cycle)  # ingest alone: no upgrade yet
    first = _customer_suggestions()
    assert first and all(s.provisional for s in first)
    assert {s.classification_version.split("-")[0] for s in first} == {"rules"}
    # a person approves one conversation and opens another message before the upgrade runs
    approved, opened = first[0].message, first[1].message
    decisions.approve_ticket(approved.id, actor="alice", config=config)
    take_review_lease(opened.id, holder="bob")
    before = {s.message.id: (s.category, s.classification_version) for s in first}
    # two workers read the same batch: only the first one's answers are stored
    twice = provisional(100, time.time())
    assert opened.id not in {p.key for p in twice}
    while worker.cycle(poll=False).upgrades_left:
        pass
    assert upgrade([(p, classifier.classify(p.message)) for p in twice], time.time()) == 0

    after = {s.message.id: s for s in _customer_suggestions()}
    assert [k for k, s in after.items() if s.provisional] == [opened.id]  # waits for bob's lease
    assert (after[approved.id].category, after[approved.id].classification_version) == before[approved.id]
    assert MessageRow.get_by_id(approved.id).state == "ticket"
    upgraded = [k for k in after if k not in (approved.id, opened.id)]
    assert any(after[k].classification_version.startswith("embed") for k in upgraded)
    audits = list(AuditRow.select().where(AuditRow.action == "classify.upgraded"))
    assert sorted(json.loads(a.detail)["was"]["classification_version"].split("-")[0] for a in audits) == [
        "rules"] * len(audits)
    assert len(audits) == len(upgraded) == len({a.message_id for a in audits})
    for key in upgraded:
        row, s = MessageRow.get_by_id(key), after[key]
        assert (row.category, row.classification_version, row.confidence) == (
            s.category, s.classification_version, s.confidence)
        assert row.state == ("needs_human" if s.needs_human else "new")
        conversation = ConversationRow.get_by_id(row.conversation_id)
        if conversation.message_key == key:  # the queue shows the upgraded suggestion and its state
            assert (conversation.category, conversation.state) == (row.category, row.state)


def test_sync_once_ends_with_every_suggestion_final(embed_on, db, db_url, make_sandbox) -> None:
    sandbox = make_sandbox(seed=5, messages=150)
    config = _config(sandbox, db_url)
    report = sync_once(config, gateway=Gateway(config.nylas, sandbox.api_key),
                       classifier=build_classifier(config.classifier))
    suggestions = _customer_suggestions()
    assert report.stored == len(sandbox.truth()) and len(suggestions) > 64  # more than one upgrade batch
    assert not [s for s in suggestions if s.provisional]
    reasons = " ".join(s.reasons for s in suggestions)
    assert "embed prototypes" in reasons
