"""The process's own metrics (counters, the classifier histogram) and their exposition.

Each process keeps its metrics in memory and serves them on its own port (a worker's
`--metrics-port`, the receiver's `/metrics`): several workers on one host are separate scrape
targets, told apart by Prometheus's `instance` label, so none can overwrite another's counts.
Store-derived gauges come from `ops.collector.StoreCollector`, computed at scrape time.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    disable_created_metrics,
    generate_latest,
)

from triage_tui import __version__

disable_created_metrics()  # no `_created` twin per counter: half the series, nothing lost
CONTENT_TYPE = CONTENT_TYPE_LATEST
CLASSIFY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# the receiver's own outcome names -> the `outcome` label (forged = a signature that does not verify)
WEBHOOK_OUTCOMES = {"stored": "accepted", "bad_signature": "forged"}


class Metrics:
    """Every counter and histogram of this process, in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.ingested = Counter("triage_messages_ingested", "Messages stored by ingest.", ["grant_id"], registry=r)
        self.duplicates = Counter("triage_messages_duplicates", "Duplicate deliveries absorbed by ingest.",
                                  ["grant_id"], registry=r)
        self.quarantined = Counter("triage_messages_quarantined", "Messages quarantined after repeated failures.",
                                   ["grant_id"], registry=r)
        self.webhook_requests = Counter(
            "triage_webhook_requests", "Requests to the webhook receiver by outcome (accepted, forged, "
            "duplicate, too_large, stale, unknown_grant, unparseable, store_error, challenge, bad_challenge).",
            ["outcome"], registry=r)
        self.sends = Counter("triage_sends", "Outbox entries sent.", ["kind"], registry=r)
        self.send_failures = Counter(
            "triage_send_failures", "Failed send attempts by outcome (retry, failed, needs_reconciliation).",
            ["kind", "outcome"], registry=r)
        self.tracker_writes = Counter("triage_tracker_writes", "Tracker writes that landed, by tracker and op.",
                                      ["tracker", "op"], registry=r)
        self.tracker_write_failures = Counter(
            "triage_tracker_write_failures", "Failed tracker writes by outcome (retry, outcome_unknown, failed, "
            "needs_reconciliation).", ["tracker", "outcome"], registry=r)
        self.classify_seconds = Histogram("triage_classifier_latency_seconds", "Time to classify one message.",
                                          ["classifier"], buckets=CLASSIFY_BUCKETS, registry=r)
        self.classifier = Info("triage_classifier", "The classification_version in use.", registry=r)
        Info("triage_build", "The triage-tui release of this process.", registry=r).info({"version": __version__})
        self.classifier_version = ""


_current = Metrics()


def metrics() -> Metrics:
    """This process's metrics."""
    return _current


def reset_metrics() -> Metrics:
    """Start from zero (tests that compare counters with the store)."""
    global _current
    _current = Metrics()
    return _current


class ProcessMetrics:
    """A collector that yields whatever `metrics()` holds now, plus the process/platform/GC figures."""

    def collect(self):
        """Every metric of this process."""
        yield from metrics().registry.collect()
        for default in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            yield from default.collect()


def exposition_registry(*collectors) -> CollectorRegistry:
    """A registry for one /metrics endpoint: this process's metrics plus the given collectors."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProcessMetrics())
    for collector in collectors:
        registry.register(collector)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition of a registry."""
    return generate_latest(registry)
