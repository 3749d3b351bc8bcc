"""The worker loop's parts: drain stored webhook events, poll every inbox, retrain when labels grow."""

from __future__ import annotations

import inspect
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from triage_tui.config import Config
from triage_tui.ingest.pipeline import (
    RETRY_TRIGGER,
    Delivery,
    IngestReport,
    Pipeline,
    UnknownGrant,
    retry_locked,
)
from triage_tui.ingest.mail_events import apply_deliveries, apply_updates
from triage_tui.ingest.poller import Poller, PollResult
from triage_tui.ingest.upgrades import UPGRADE_BATCH, upgrade_provisional
from triage_tui.nylas.errors import AuthError, GatewayError, NotFound
from triage_tui.nylas.notifications import is_delivery_trigger, is_update_trigger
from triage_tui.store.labels import approved_examples, labelled_decision_count
from triage_tui.store.messages import existing_message_ids
from triage_tui.store.transient import log_failure
from triage_tui.store.watermarks import record_sync_error
from triage_tui.store.webhook_events import (
    DONE,
    GONE,
    IGNORED,
    PendingEvent,
    claim_events,
    mark_events,
    release_events,
)

log = logging.getLogger(__name__)
MESSAGE_TRIGGERS = ("message.created", "message.updated", RETRY_TRIGGER)
DRAIN_BATCH = 200


def is_message_trigger(trigger: str) -> bool:
    """True for notifications that point at a message to (re-)fetch, `.truncated` ones included."""
    return trigger.startswith(MESSAGE_TRIGGERS)


@dataclass
class CycleReport:
    """What one worker cycle did."""

    report: IngestReport = field(default_factory=IngestReport)
    events: int = 0
    polls: list[PollResult] = field(default_factory=list)
    complete: bool = True
    errors: list[str] = field(default_factory=list)
    updates: int = 0  # message.updated events that changed a stored message
    deliveries: int = 0  # delivery-status events drained
    upgraded: int = 0  # provisional suggestions the whole chain answered again
    upgrades_left: bool = False  # a full upgrade batch was read: more may wait
    upgrade_seconds: float = 0.0


class Worker:
    """One cycle = poll each inbox once (bounded), drain webhook events, run extra tasks."""

    def __init__(self, config: Config, gateway, classifier, *,
                 extra_tasks: Sequence[Callable[[], None]] = ()) -> None:
        self.config = config
        self.gateway = gateway
        self.classifier = classifier
        self.pipeline = Pipeline(config, gateway, classifier)
        self.poller = Poller(config, gateway, self.pipeline)
        self.extra_tasks = list(extra_tasks)
        self._labels_seen: int | None = None

    def poll_all(self, cycle: CycleReport) -> None:
        """One bounded poll of every configured inbox; an auth or network error stops the cycle."""
        for inbox in self.config.inboxes:
            try:
                result = self.poller.poll(inbox.grant_id)
            except GatewayError as exc:
                record_sync_error(inbox.grant_id, str(exc))
                raise
            cycle.polls.append(result)
            cycle.report.add(result.report)
            cycle.complete &= result.complete

    def drain(self, cycle: CycleReport, *, limit: int = DRAIN_BATCH) -> int:
        """Process up to `limit` pending webhook events through the pipeline; returns how many."""
        events = retry_locked(lambda: claim_events(limit, lease_s=self.config.worker.lease_s))
        by_grant: dict[str, list[PendingEvent]] = defaultdict(list)
        for event in events:
            by_grant[event.grant_id].append(event)
        try:
            for grant_id, grant_events in by_grant.items():
                self._drain_grant(grant_id, grant_events, cycle)
        except BaseException:
            release_events([e.row_id for e in events])
            raise
        cycle.events += len(events)
        return len(events)

    def _drain_grant(self, grant_id: str, events: list[PendingEvent], cycle: CycleReport) -> None:
        try:
            scope = self.pipeline.scope(grant_id)
        except UnknownGrant as exc:
            mark_events([e.row_id for e in events], IGNORED, error=str(exc))
            return
        delivery = [e for e in events if is_delivery_trigger(e.trigger)]
        if delivery:
            apply_deliveries(grant_id, delivery)
            cycle.deliveries += len(delivery)
            events = [e for e in events if not is_delivery_trigger(e.trigger)]
        ignored = [e.row_id for e in events if not is_message_trigger(e.trigger) or not e.message_id]
        mark_events(ignored, IGNORED, error="not a message notification")
        wanted = [e for e in events if is_message_trigger(e.trigger) and e.message_id]
        by_message: dict[str, list[PendingEvent]] = defaultdict(list)
        for event in wanted:
            by_message[event.message_id].append(event)
        known = existing_message_ids(grant_id, list(by_message))
        items, gone = [], []
        for message_id, copies in by_message.items():
            deliveries = [Delivery(e.trigger, e.event_id, e.received_at, e.row_id, e.attempts) for e in copies]
            if message_id in known:
                items.extend((_Known(message_id), d) for d in deliveries)
                continue
            try:
                message = self.gateway.get_message(grant_id, message_id)
            except NotFound:
                gone.extend(e.row_id for e in copies)
                continue
            except AuthError:
                raise
            except GatewayError as exc:
                if exc.retryable:
                    raise  # the API is unwell; the events stay pending for the next cycle
                reason = f"{type(exc).__name__}: {exc}"[:500]
                cycle.report.failed += 1
                if self.pipeline.record_failure(scope, message_id, deliveries[0], reason):
                    cycle.report.quarantined += 1
                continue
            items.extend((message, d) for d in deliveries)
        mark_events(gone, GONE, error="message not found (deleted or id changed)")
        cycle.report.gone += len(gone)
        known_items = [(m, d) for m, d in items if isinstance(m, _Known) and not is_update_trigger(d.trigger)]
        fetched = [(m, d) for m, d in items if not isinstance(m, _Known)]
        if known_items:
            self.pipeline.audit_duplicates(scope, [(m.message_id, d) for m, d in known_items], cycle.report)
            cycle.report.seen += len(known_items)
        absorbed: set[str] = set()
        if fetched:
            report = self.pipeline.ingest_messages(grant_id, fetched)
            cycle.report.add(report)
            absorbed = set(report.absorbed)
        stored = existing_message_ids(grant_id, [m.message_id for m, _ in items]) | absorbed
        updates = [e for e in wanted if is_update_trigger(e.trigger) and e.message_id in stored]
        if updates:
            outcomes = apply_updates(self.gateway, scope, updates)
            cycle.updates += sum(1 for o in outcomes.values() if o == "applied")
        retry_locked(lambda: mark_events([d.event_row_id for m, d in items if m.message_id in stored], DONE))

    def maybe_retrain(self) -> bool:
        """Start a background retrain once `retrain_after` new labelled decisions exist (True if it did)."""
        train = getattr(self.classifier, "train", None)
        if train is None:
            return False
        count = labelled_decision_count()
        if self._labels_seen is None:
            self._labels_seen = count
            return False
        if count - self._labels_seen < self.config.classifier.retrain_after:
            return False
        self._labels_seen = count
        examples = approved_examples()
        if _trains_in_background(train):
            train(examples, background=True)  # the old model answers until the new one is in
        else:
            train(examples)
        return True

    def cycle(self, *, poll: bool = True) -> CycleReport:
        """Poll (optionally), drain every pending event, run extra tasks, maybe retrain."""
        cycle = CycleReport()
        if poll:
            self.poll_all(cycle)
        while self.drain(cycle) >= DRAIN_BATCH:
            pass
        for task in self.extra_tasks:
            try:
                task()
            except Exception as exc:  # noqa: BLE001 - a broken task must not stop ingest
                cycle.errors.append(log_failure(log, f"task {getattr(task, '__name__', task)}", exc))
        try:
            self.maybe_retrain()
        except Exception as exc:  # noqa: BLE001
            cycle.errors.append(log_failure(log, "retrain", exc))
        if cycle.complete:
            try:
                self.upgrade(cycle)
            except Exception as exc:  # noqa: BLE001 - the provisional suggestions stay; next cycle tries again
                cycle.errors.append(log_failure(log, "suggestion upgrade", exc))
        return cycle

    def upgrade(self, cycle: CycleReport) -> None:
        """One batch of provisional suggestions answered by the whole chain (only when ingest is idle)."""
        if self.pipeline.quick is None:
            return
        started = time.monotonic()
        read, changed = upgrade_provisional(self.classifier)
        cycle.upgrade_seconds += time.monotonic() - started
        cycle.upgraded += changed
        cycle.upgrades_left = read >= UPGRADE_BATCH


def _trains_in_background(train: Callable) -> bool:
    """True when `train` takes `background=` (the chain and RetrainingClassifier do)."""
    try:
        return "background" in inspect.signature(train).parameters
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class _Known:
    """Stands in for a message already stored (no fetch needed)."""

    message_id: str
