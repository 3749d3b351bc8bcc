"""Store-derived metrics, computed at scrape time by one custom collector.

Every figure is a small function registered with `@store_gauge` (or `@store_counter` for a
store count that only grows) returning {label values: value}; the collector turns each into a
metric family. Adding a figure is one decorated function here plus the store query it calls.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from triage_tui.config import Config
from triage_tui.store import gauges
from triage_tui.store.db import connection
from triage_tui.store.models import database

log = logging.getLogger(__name__)
Values = dict[tuple[str, ...], float]


@dataclass(frozen=True)
class Scrape:
    """What a figure may use: the config (grants, SLAs) and one clock for the whole scrape."""

    config: Config
    now: float
    _read: dict = field(default_factory=dict, compare=False, repr=False)

    def once(self, key: str, read: Callable[[], object]):
        """`read()` the first time `key` is asked for in this scrape; the same value after that."""
        if key not in self._read:
            self._read[key] = read()
        return self._read[key]


@dataclass(frozen=True)
class StoreMetric:
    """One store-derived metric family and the function that reads its values."""

    name: str
    documentation: str
    labels: tuple[str, ...]
    read: Callable[[Scrape], Values]
    counter: bool = False


STORE_METRICS: list[StoreMetric] = []


def store_gauge(name: str, documentation: str, labels: tuple[str, ...] = ()):
    """Register `read(scrape) -> {label values: value}` as a gauge computed at every scrape."""

    def register(read: Callable[[Scrape], Values]) -> Callable[[Scrape], Values]:
        STORE_METRICS.append(StoreMetric(name, documentation, labels, read))
        return read

    return register


def store_counter(name: str, documentation: str, labels: tuple[str, ...] = ()):
    """Register a store count that only grows (exposed as NAME_total, so rate() works)."""

    def register(read: Callable[[Scrape], Values]) -> Callable[[Scrape], Values]:
        STORE_METRICS.append(StoreMetric(name, documentation, labels, read, counter=True))
        return read

    return register


def _age(now: float, then: float | None) -> float:
    return math.inf if then is None else max(0.0, now - then)


@store_gauge("triage_ingest_lag_seconds", "Now minus received_at of the newest stored message, by grant "
             "(+Inf when the inbox has none).", ("grant_id",))
def _ingest_lag(scrape: Scrape) -> Values:
    newest = gauges.newest_received_at(scrape.config.grant_ids)
    return {(grant,): _age(scrape.now, at) for grant, at in newest.items()}


@store_gauge("triage_last_poll_age_seconds", "Seconds since the last completed poll of each configured grant "
             "(+Inf when it never completed).", ("grant_id",))
def _poll_age(scrape: Scrape) -> Values:
    synced = gauges.last_successful_sync()
    return {(grant,): _age(scrape.now, synced.get(grant)) for grant in scrape.config.grant_ids}


@store_gauge("triage_messages_waiting", "Messages waiting for a human (new or needs_human), by urgency.",
             ("urgency",))
def _waiting(scrape: Scrape) -> Values:
    return {(u,): w.count for u, w in _waiting_now(scrape).items()}


@store_gauge("triage_messages_over_sla", "Waiting messages older than their urgency's SLA "
             "([console] sla_minutes), by urgency.", ("urgency",))
def _over_sla(scrape: Scrape) -> Values:
    return {(u,): w.over_sla for u, w in _waiting_now(scrape).items()}


@store_gauge("triage_messages_waiting_oldest_age_seconds", "Age of the oldest waiting message, by urgency "
             "(0 when none waits).", ("urgency",))
def _oldest(scrape: Scrape) -> Values:
    return {(u,): 0.0 if w.oldest_received_at is None else _age(scrape.now, w.oldest_received_at)
            for u, w in _waiting_now(scrape).items()}


@store_gauge("triage_conversations_waiting", "Conversations waiting on us (untriaged, or an open ticket with "
             "unanswered customer mail), by urgency and SLA state (within, over: [console] sla_minutes).",
             ("urgency", "sla"))
def _conversations_waiting(scrape: Scrape) -> Values:
    found: Values = {}
    for urgency, w in _conversations_now(scrape).items():
        found[(urgency, "within")] = w.count - w.over_sla
        found[(urgency, "over")] = w.over_sla
    return found


@store_gauge("triage_conversations_waiting_oldest_age_seconds", "Age of the oldest unanswered customer message "
             "of a waiting conversation, by urgency (0 when none waits).", ("urgency",))
def _conversations_oldest(scrape: Scrape) -> Values:
    return {(u,): 0.0 if w.oldest_received_at is None else _age(scrape.now, w.oldest_received_at)
            for u, w in _conversations_now(scrape).items()}


@store_counter("triage_decisions", "Human decisions ever recorded, by kind.", ("kind",))
def _decisions(scrape: Scrape) -> Values:
    return {(kind,): n for kind, n in gauges.decisions_by_kind().items()}


@store_gauge("triage_outbox_entries", "Outbox entries by kind and state.", ("kind", "state"))
def _outbox(scrape: Scrape) -> Values:
    return {key: n for key, n in gauges.outbox_by_kind_and_state().items()}


@store_gauge("triage_tracker_write_entries", "Tracker writes by tracker and state (pending, retry, failed, "
             "needs_reconciliation, done, ...).", ("tracker", "state"))
def _tracker_writes(scrape: Scrape) -> Values:
    return dict(gauges.tracker_writes_by_state())


@store_gauge("triage_tracker_pause_on", "1 while tracker writes are paused (`pause --trackers`).")
def _tracker_pause(scrape: Scrape) -> Values:
    return {(): float(gauges.tracker_pause_state(scrape.now).on)}


@store_gauge("triage_suggestions_provisional", "Suggestions from the quick classifiers at ingest, waiting for "
             "the whole chain (embed) to answer again.")
def _provisional(scrape: Scrape) -> Values:
    return {(): gauges.provisional_suggestions()}


@store_gauge("triage_webhook_events_waiting", "Stored webhook notifications not yet processed, by status.",
             ("status",))
def _events(scrape: Scrape) -> Values:
    return {(status,): n for status, n in gauges.webhook_events_waiting().items()}


@store_gauge("triage_stop_switch_on", "1 while the stop switch pauses every send.")
def _switch_on(scrape: Scrape) -> Values:
    return {(): float(_switch(scrape).on)}


@store_gauge("triage_stop_switch_last_change_age_seconds", "Seconds since the stop switch last went on or "
             "off (+Inf when it was never set).")
def _switch_age(scrape: Scrape) -> Values:
    return {(): _age(scrape.now, _switch(scrape).changed_at)}


def _switch(scrape: Scrape) -> gauges.SwitchState:
    return scrape.once("switch", lambda: gauges.stop_switch_state(scrape.now))


def _sla_s(scrape: Scrape) -> dict[str, float]:
    return {u: m * 60.0 for u, m in scrape.config.console.sla_minutes.items()}


def _waiting_now(scrape: Scrape) -> dict[str, gauges.Waiting]:
    return scrape.once("waiting", lambda: gauges.waiting_by_urgency(scrape.now, _sla_s(scrape)))


def _conversations_now(scrape: Scrape) -> dict[str, gauges.Waiting]:
    return scrape.once("conversations", lambda: gauges.conversations_waiting_by_urgency(scrape.now, _sla_s(scrape)))


class StoreCollector:
    """Yields every registered store metric, plus whether the store could be read and how long it took."""

    def __init__(self, config: Config, metrics: list[StoreMetric] | None = None) -> None:
        self.config = config
        self.metrics = STORE_METRICS if metrics is None else metrics

    def collect(self):
        """One scrape: read every figure in one connection; a dead store gives triage_store_up 0."""
        started = time.perf_counter()
        scrape = Scrape(self.config, time.time())
        families, failed = [], 0
        up = database.obj is not None
        try:
            if up:
                with connection():
                    for metric in self.metrics:
                        try:
                            families.append(_family(metric, metric.read(scrape)))
                        except Exception as exc:  # noqa: BLE001 - one broken figure must not hide the rest
                            failed += 1
                            log.warning("store metric %s not read: %s", metric.name, exc)
        except Exception as exc:  # noqa: BLE001 - the database is down: say so, keep the process metrics
            up = False
            log.warning("store metrics not read: %s", exc)
        yield from families
        yield GaugeMetricFamily("triage_store_up", "1 when the last scrape could read the store.",
                                value=float(up and failed < len(self.metrics)))
        yield GaugeMetricFamily("triage_store_scrape_errors", "Store metrics that failed in the last scrape.",
                                value=float(failed))
        yield GaugeMetricFamily("triage_store_scrape_duration_seconds", "Time spent reading the store metrics.",
                                value=time.perf_counter() - started)


def _family(metric: StoreMetric, values: Values):
    kind = CounterMetricFamily if metric.counter else GaugeMetricFamily
    family = kind(metric.name, metric.documentation, labels=list(metric.labels))
    for labels, value in sorted(values.items()):
        family.add_metric(list(labels), float(value))
    return family
