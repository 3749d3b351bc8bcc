"""The suggestion upgrade pass: one worker at a time on PostgreSQL, the others skip their turn."""

from __future__ import annotations

import psycopg2
import pytest

from tests.store.factories import make_message
from triage_tui.classify.chain import build_classifier
from triage_tui.config import ClassifierConfig
from triage_tui.ingest.upgrades import upgrade_provisional
from triage_tui.store.models import SuggestionRow
from triage_tui.store.suggestion_upgrades import UPGRADE_LOCK_ID


def _provisional(count: int) -> None:
    for i in range(count):
        row = make_message(thread_id=f"thr-{i}", subject="I was charged twice for my invoice")
        SuggestionRow.create(message=row, category="other", urgency="normal", confidence=0.2,
                             classification_version="quick-x", created_at=1, provisional=True)


def test_a_second_worker_skips_while_one_upgrades(db, db_url) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("one SQLite worker: no turn to take")
    _provisional(3)
    classifier = build_classifier(ClassifierConfig(chain=["rules"]))
    other = psycopg2.connect(db_url)  # another worker's session, in the middle of its upgrade
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", (UPGRADE_LOCK_ID,))
        assert upgrade_provisional(classifier) == (0, 0)
        assert SuggestionRow.select().where(SuggestionRow.provisional == True).count() == 3  # noqa: E712
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", (UPGRADE_LOCK_ID,))
    finally:
        other.close()
    read, changed = upgrade_provisional(classifier)
    assert read == 3 and changed == 3
    assert {s.category for s in SuggestionRow.select()} == {"billing"}
    assert not SuggestionRow.select().where(SuggestionRow.provisional == True).exists()  # noqa: E712
