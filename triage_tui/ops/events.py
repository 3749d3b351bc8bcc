"""One call per operational event: count it and, where a person should see it, log one line with its ids.

Ingest, outbound and the receiver call these in one line each, so their own code stays about
their work. A new event is a function here plus its counter in `ops.metrics.Metrics`
(deploy/README.md, "Adding a metric").
"""

from __future__ import annotations

import logging
import time
from collections import Counter

from triage_tui.ops.logs import ids
from triage_tui.ops.metrics import WEBHOOK_OUTCOMES, metrics

ingest_log = logging.getLogger("triage_tui.ingest")
outbound_log = logging.getLogger("triage_tui.outbound")
MAX_REASON = 300


def stored(grant_id: str, count: int, *, duplicates: int = 0) -> None:
    """`count` new messages of a grant were committed (and `duplicates` found already stored meanwhile)."""
    absorbed(grant_id, duplicates)
    if count:
        metrics().ingested.labels(grant_id).inc(count)
        ingest_log.info("messages stored", extra=ids(grant_id=grant_id, count=count))


def absorbed(grant_id: str, count: int) -> None:
    """`count` deliveries of messages already stored were absorbed (they are audited, not logged)."""
    if count:
        metrics().duplicates.labels(grant_id).inc(count)


def quarantined(grant_id: str, message_id: str, reason: str) -> None:
    """A message failed too often and was set aside with its reason."""
    metrics().quarantined.labels(grant_id).inc()
    ingest_log.warning("message quarantined", extra=ids(grant_id=grant_id, message_id=message_id,
                                                        reason=_short(reason)))


def classify(classifier, message):
    """`classifier.classify(message)`, timed into the latency histogram; notes a new classification_version."""
    started = time.perf_counter()
    suggestion = classifier.classify(message)
    m = metrics()
    m.classify_seconds.labels(getattr(classifier, "name", "classifier")).observe(time.perf_counter() - started)
    if suggestion.classification_version != m.classifier_version:
        m.classifier_version = suggestion.classification_version
        m.classifier.info({"version": suggestion.classification_version})
    return suggestion


def sent(row) -> None:
    """An outbox entry (an OutboxRow) was accepted by the API."""
    metrics().sends.labels(row.kind).inc()
    outbound_log.info("sent", extra=_entry_ids(row))


def send_failed(row, outcome: str, error: str) -> None:
    """A send attempt failed; `outcome` is what happens next (retry, failed, needs_reconciliation)."""
    metrics().send_failures.labels(row.kind, outcome).inc()
    outbound_log.warning("send failed", extra={**_entry_ids(row), "outcome": outcome, "error": _short(error)})


def tracker_written(row) -> None:
    """A tracker write (a TrackerWriteRow) landed and was recorded."""
    metrics().tracker_writes.labels(row.tracker, row.op).inc()
    outbound_log.info("tracker write landed", extra=_tracker_ids(row))


def tracker_write_failed(row, outcome: str, error: str) -> None:
    """A tracker write failed; `outcome` is what happens next (retry, outcome_unknown, failed, needs_reconciliation)."""
    metrics().tracker_write_failures.labels(row.tracker, outcome).inc()
    outbound_log.warning("tracker write failed", extra={**_tracker_ids(row), "outcome": outcome, "error": _short(error)})


class WebhookOutcomes(Counter):
    """The receiver's outcome counts (its /stats), each increment mirrored into triage_webhook_requests_total."""

    def __setitem__(self, outcome: str, value: int) -> None:
        added = value - self.get(outcome, 0)
        super().__setitem__(outcome, value)
        if added > 0:
            metrics().webhook_requests.labels(WEBHOOK_OUTCOMES.get(outcome, outcome)).inc(added)


def _entry_ids(row) -> dict:
    return ids(grant_id=row.grant_id, message_id=row.reply_to_message_id, command_result_id=row.command_result_id,
               thread_id=row.thread_id, ticket_id=row.ticket_id, kind=row.kind)


def _tracker_ids(row) -> dict:
    return ids(grant_id=row.grant_id, message_id=row.message_id, command_result_id=row.command_result_id,
               thread_id=row.thread_id, ticket_id=row.ticket_id, decision_id=row.decision_id, tracker=row.tracker,
               op=row.op)


def _short(text: str) -> str:
    return " ".join(str(text).split())[:MAX_REASON]
