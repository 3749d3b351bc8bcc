"""The idempotent ingest pipeline: normalised messages -> signals -> suggestion -> one stored row each."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

from triage_tui.classify.base import Classifier
from triage_tui.config import Config
from triage_tui.domain import AuditEvent, InboundMessage, RuleEvaluation, ThreadInfo
from triage_tui.ingest.signals import compute_signals
from triage_tui.nylas.errors import GatewayError, NotFound
from triage_tui.ops import events
from triage_tui.ops.logs import ids
from triage_tui.store.audit import record_audit
from triage_tui.store.db import write_transaction
from triage_tui.store.transient import database_unwell, retrying
from triage_tui.store.messages import (
    ACTOR,
    BatchResult,
    InboxScope,
    PreparedMessage,
    existing_message_ids,
    known_thread_ids,
    quarantine_message,
    store_batch,
)
from triage_tui.store.webhook_events import (
    QUARANTINED,
    event_row_id,
    mark_events,
    record_event,
    record_event_failure,
)

log = logging.getLogger(__name__)
RETRY_TRIGGER = "ingest.retry"
MAX_THREAD_FETCHES = 50
EVALUATION_PAGES = 2
EVALUATION_CACHE = 20_000
CLASSIFIER_MAX_CHARS = 32_000


class UnknownGrant(Exception):
    """A grant that is not one of the configured inboxes; nothing is read or stored for it."""


@dataclass
class Delivery:
    """Where one copy of a message came from (a webhook event, or the poller)."""

    trigger: str
    event_id: str = ""
    received_at: float | None = None
    event_row_id: int | None = None
    attempts: int = 0


@dataclass
class IngestReport:
    """Counts of one pipeline run, added up by the poller and the worker."""

    seen: int = 0
    stored: int = 0
    duplicates: int = 0
    flagged: int = 0
    suggested: int = 0
    linked: int = 0
    failed: int = 0
    quarantined: int = 0
    gone: int = 0
    errors: list[str] = field(default_factory=list)
    # API ids whose mail was already stored under another id (same Message-ID): handled, not stored.
    absorbed: list[str] = field(default_factory=list)

    def add(self, other: "IngestReport") -> None:
        """Add another report's counts to this one."""
        for name in ("seen", "stored", "duplicates", "flagged", "suggested", "linked", "failed",
                     "quarantined", "gone"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)
        self.absorbed.extend(other.absorbed)


class Pipeline:
    """Turns fetched messages into stored rows; every write is idempotent on (grant_id, message_id)."""

    def __init__(self, config: Config, gateway, classifier: Classifier) -> None:
        self.config = config
        self.gateway = gateway
        self.classifier = classifier
        # With a slow member (embed), ingest suggests with the rest of the chain and marks the
        # answer provisional; the worker upgrades it when the inbox is caught up (ingest/upgrades.py).
        quick = getattr(classifier, "quick", None)
        self.quick = quick() if callable(quick) else None
        self.own_addresses = {inbox.email.lower() for inbox in config.inboxes if inbox.email}
        self._evaluation_cache: dict[str, dict[str, RuleEvaluation | None]] = {}

    def scope(self, grant_id: str) -> InboxScope:
        """The config scope of a grant, or UnknownGrant."""
        inbox = self.config.inbox(grant_id)
        if inbox is None:
            raise UnknownGrant(f"grant {grant_id!r} is not a configured inbox")
        return InboxScope(
            tenant_id=self.config.tenant_id, environment=self.config.environment, grant_id=grant_id,
            agent_account_email=inbox.email, workspace_id=inbox.workspace_id, policy_id=inbox.policy_id,
        )

    def ingest(self, grant_id: str, message_id: str, trigger: str, *, event_id: str = "",
               webhook_received_at: float | None = None) -> IngestReport:
        """Fetch one message (with headers) and its thread, and store it once."""
        delivery = Delivery(trigger, event_id, webhook_received_at)
        scope = self.scope(grant_id)
        if existing_message_ids(grant_id, [message_id]):
            report = IngestReport(seen=1)
            self.audit_duplicates(scope, [(message_id, delivery)], report)
            return report
        try:
            message = self.gateway.get_message(grant_id, message_id)
        except NotFound:
            return IngestReport(seen=1, gone=1)
        return self.ingest_messages(grant_id, [(message, delivery)])

    def ingest_messages(self, grant_id: str, items: list[tuple[InboundMessage, Delivery]], *,
                        threads: dict[str, ThreadInfo] | None = None, fetch_threads: bool = True) -> IngestReport:
        """Store a batch of fetched messages: known ones are audited as duplicates, new ones classified.

        With `fetch_threads`, each thread the store does not know yet is read once for the batch;
        the poller passes False because its pages already list every message of the window.
        """
        scope = self.scope(grant_id)
        report = IngestReport(seen=len(items))
        known = existing_message_ids(grant_id, [m.message_id for m, _ in items])
        fresh: dict[str, tuple[InboundMessage, Delivery]] = {}
        duplicates: list[tuple[str, Delivery]] = []
        for message, delivery in items:
            if message.message_id in known or message.message_id in fresh:
                duplicates.append((message.message_id, delivery))
            else:
                fresh[message.message_id] = (message, delivery)
        if duplicates:
            self.audit_duplicates(scope, duplicates, report)
        if not fresh:
            return report
        threads = dict(threads or {})
        if fetch_threads:
            self._fetch_threads(grant_id, [m for m, _ in fresh.values()], threads)
        evaluations = self._evaluations(grant_id, list(fresh))
        self._prepare_classifier([m for m, _ in fresh.values()])
        prepared: list[PreparedMessage] = []
        for message, delivery in fresh.values():
            try:
                prepared.append(self.prepare(message, delivery, threads.get(message.thread_id),
                                             evaluations.get(message.message_id)))
            except Exception as exc:  # noqa: BLE001 - one poison message must not stop the batch
                self._failed(scope, message, delivery, exc, report)
        self._store(scope, prepared, {mid: d for mid, (_m, d) in fresh.items()}, report)
        return report

    def _prepare_classifier(self, messages: list[InboundMessage]) -> None:
        """Let a batching classifier (embed) do a page's work in one pass; never fails ingest."""
        prepare = getattr(self.quick or self.classifier, "prepare_batch", None)
        if prepare is None:
            return
        try:
            prepare([classifier_view(m) for m in messages])
        except Exception:  # noqa: BLE001 - classify() answers one by one instead
            log.exception("batch preparation of the classifier failed")

    def prepare(self, message: InboundMessage, delivery: Delivery, thread: ThreadInfo | None,
                evaluation: RuleEvaluation | None) -> PreparedMessage:
        """Signals and (for mail a person wrote) one suggestion; no database access."""
        signals = compute_signals(message, own_addresses=self.own_addresses)
        suggestion = None
        if not signals.automated:
            suggestion = events.classify(self.quick or self.classifier, classifier_view(message))
            if self.quick is not None:
                suggestion = suggestion.model_copy(update={"provisional": True})
        return PreparedMessage(
            message=message, signals=signals, suggestion=suggestion, trigger=delivery.trigger,
            evaluation=evaluation, thread=thread, event_id=delivery.event_id,
            webhook_received_at=delivery.received_at,
        )

    def _store(self, scope: InboxScope, prepared: list[PreparedMessage],
               deliveries: dict[str, Delivery], report: IngestReport) -> None:
        if not prepared:
            return
        try:
            result = retry_locked(lambda: store_batch(scope, prepared, tracking=self.config))
        except Exception as exc:  # noqa: BLE001 - retry one by one so only the bad one fails
            if database_unwell(exc):
                raise  # the database itself is unwell: not the message's fault
            log.warning("batch write failed (%s); writing one by one", exc)
            result = BatchResult()
            for item in prepared:
                try:
                    one = store_batch(scope, [item], tracking=self.config)
                except Exception as one_exc:  # noqa: BLE001
                    if database_unwell(one_exc):
                        raise
                    self._failed(scope, item.message, deliveries[item.message.message_id], one_exc, report)
                    continue
                for name in ("stored", "duplicates", "linked", "flagged", "suggested"):
                    getattr(result, name).extend(getattr(one, name))
        events.stored(scope.grant_id, len(result.stored), duplicates=len(result.duplicates))
        report.stored += len(result.stored)
        report.duplicates += len(result.duplicates)
        report.absorbed.extend(result.duplicates)
        report.flagged += len(result.flagged)
        report.suggested += len(result.suggested)
        report.linked += len(result.linked)

    def _failed(self, scope: InboxScope, message: InboundMessage, delivery: Delivery,
                exc: BaseException, report: IngestReport) -> None:
        reason = f"{type(exc).__name__}: {exc}"[:500]
        report.failed += 1
        report.errors.append(f"{message.message_id}: {reason}")
        log.warning("ingest failed: %s", reason, extra=ids(grant_id=scope.grant_id, message_id=message.message_id))
        if self.record_failure(scope, message.message_id, delivery, reason, subject=message.subject,
                               thread_id=message.thread_id):
            report.quarantined += 1

    def record_failure(self, scope: InboxScope, message_id: str, delivery: Delivery, reason: str, *,
                       subject: str = "", thread_id: str = "") -> bool:
        """Count a failed attempt in the durable retry queue; quarantine at max_attempts (True)."""
        row_id = delivery.event_row_id
        if row_id is None:
            event_id = f"retry:{scope.grant_id}:{message_id}"
            record_event(event_id, grant_id=scope.grant_id, message_id=message_id,
                         trigger=RETRY_TRIGGER, raw=b"")
            row_id = event_row_id(event_id)
        attempts = record_event_failure(row_id, reason)
        if attempts < self.config.worker.max_attempts:
            return False
        stored = quarantine_message(scope, message_id, reason, attempts=attempts, trigger=delivery.trigger,
                                    event_id=delivery.event_id, subject=subject, thread_id=thread_id)
        mark_events([row_id], QUARANTINED, error=reason)
        if stored:  # another worker may have quarantined it first: count it once, like the store
            events.quarantined(scope.grant_id, message_id, reason)
        return True

    def audit_duplicates(self, scope: InboxScope, duplicates: list[tuple[str, Delivery]],
                          report: IngestReport) -> None:
        """One audit row per webhook copy, one row per poll batch (overlap is expected)."""
        report.duplicates += len(duplicates)
        events.absorbed(scope.grant_id, len(duplicates))
        now = datetime.now(timezone.utc)
        base = dict(actor=ACTOR, at=now, tenant_id=scope.tenant_id, environment=scope.environment,
                    agent_account_email=scope.agent_account_email, grant_id=scope.grant_id,
                    workspace_id=scope.workspace_id, policy_id=scope.policy_id)
        polled = [mid for mid, d in duplicates if not d.event_id]
        retry_locked(lambda: self._write_duplicate_audits(base, scope, duplicates, polled))

    @staticmethod
    def _write_duplicate_audits(base: dict, scope: InboxScope, duplicates: list[tuple[str, Delivery]],
                                polled: list[str]) -> None:
        with write_transaction():
            for message_id, delivery in duplicates:
                if not delivery.event_id:
                    continue
                record_audit(AuditEvent(
                    action="ingest.duplicate", message_id=message_id, event_id=delivery.event_id,
                    dedupe_key=f"{scope.grant_id}:{message_id}", webhook_trigger=delivery.trigger,
                    webhook_received_at=_dt(delivery.received_at), **base,
                    detail={"count": 1, "trigger": delivery.trigger},
                ))
            if polled:
                record_audit(AuditEvent(
                    action="ingest.duplicate", webhook_trigger="poll", **base,
                    detail={"count": len(polled), "trigger": "poll", "message_ids": polled[:50]},
                ))

    def _fetch_threads(self, grant_id: str, messages: list[InboundMessage],
                       threads: dict[str, ThreadInfo]) -> None:
        wanted = {m.thread_id for m in messages if m.thread_id and m.thread_id not in threads}
        wanted -= known_thread_ids(grant_id, list(wanted))
        for thread_id in sorted(wanted)[:MAX_THREAD_FETCHES]:
            try:
                threads[thread_id] = self.gateway.get_thread(grant_id, thread_id)
            except GatewayError as exc:
                log.info("thread %s not fetched: %s", thread_id, exc)

    def _evaluations(self, grant_id: str, message_ids: list[str]) -> dict[str, RuleEvaluation]:
        """Rule evaluations of these messages, read once (newest pages) and cached per grant."""
        cache = self._evaluation_cache.setdefault(grant_id, {})
        missing = [m for m in message_ids if m not in cache]
        if missing:
            try:
                found = self.gateway.rule_evaluations(grant_id, max_pages=EVALUATION_PAGES)
            except GatewayError as exc:
                log.info("rule evaluations not read for %s: %s", grant_id, exc)
                found = []
            if len(cache) > EVALUATION_CACHE:
                cache.clear()
            cache.update({e.message_id: e for e in found})
            for message_id in missing:
                cache.setdefault(message_id, None)  # none recorded: do not ask again
        return {m: cache[m] for m in message_ids if cache.get(m) is not None}


def retry_locked(write):
    """Run a write transaction again after a transient database error (the shared retry path)."""
    return retrying(write)


def classifier_view(message: InboundMessage) -> InboundMessage:
    """The message as a classifier sees it: text capped at CLASSIFIER_MAX_CHARS, no HTML twin."""
    if len(message.body_text) <= CLASSIFIER_MAX_CHARS and len(message.body_html) <= CLASSIFIER_MAX_CHARS:
        return message
    return message.model_copy(update={
        "body_text": message.body_text[:CLASSIFIER_MAX_CHARS] + "\n[truncated]", "body_html": "",
    })


def _dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=timezone.utc)

