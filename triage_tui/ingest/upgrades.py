"""The worker's pass that upgrades provisional suggestions with the whole chain once ingest is idle."""

from __future__ import annotations

import logging
import time

from triage_tui.ingest.pipeline import classifier_view, retry_locked
from triage_tui.ops import events
from triage_tui.store.suggestion_upgrades import provisional, upgrade, upgrade_turn

log = logging.getLogger(__name__)

# Messages per pass: one encoder batch, a fraction of a second on two cores.
UPGRADE_BATCH = 64


def upgrade_provisional(classifier, *, limit: int = UPGRADE_BATCH) -> tuple[int, int]:
    """Classify up to `limit` provisional messages with the whole chain and store the answers.

    Returns (read, changed); fewer read than `limit` means none are left (or another worker is at it).
    """
    with upgrade_turn() as mine:
        return _upgrade(classifier, limit) if mine else (0, 0)


def _upgrade(classifier, limit: int) -> tuple[int, int]:
    items = retry_locked(lambda: provisional(limit, time.time()))
    if not items:
        return 0, 0
    views = [classifier_view(item.message) for item in items]
    prepare = getattr(classifier, "prepare_batch", None)
    if prepare is not None:
        try:
            prepare(views)
        except Exception:  # noqa: BLE001 - classify() answers one by one instead
            log.exception("batch preparation of the classifier failed")
    answers = [(item, events.classify(classifier, view)) for item, view in zip(items, views)]
    changed = retry_locked(lambda: upgrade(answers, time.time()))
    return len(items), changed
