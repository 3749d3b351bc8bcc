"""The learned classifier: training, versioning, calibration and background retraining."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from triage_tui.classify.labels import Labels
from triage_tui.classify.learned import UNTRAINED, LearnedClassifier, RetrainingClassifier
from triage_tui.classify.model import ModelParams, _scores
from triage_tui.config import ClassifierConfig

from tests.classify.corpus import CATEGORIES, examples, message

CONFIG = ClassifierConfig()
LABELS = Labels(tuple(CONFIG.categories), tuple(CONFIG.urgencies), CONFIG.min_confidence)


@pytest.fixture(scope="module")
def trained() -> LearnedClassifier:
    learned = LearnedClassifier(LABELS, min_training_examples=30)
    learned.train(examples(25, seed=1))
    return learned


def test_too_few_examples_defers_to_a_human() -> None:
    learned = LearnedClassifier(LABELS, min_training_examples=30)
    learned.train(examples(4))  # 24 examples
    s = learned.classify(message("I was charged twice"))
    assert not learned.trained
    assert s.needs_human and s.classification_version == UNTRAINED
    assert "24 examples, needs 30" in s.reasons[0]


def test_trained_model_generalises_to_held_out_mail(trained: LearnedClassifier) -> None:
    held_out = examples(10, seed=99)
    suggestions = trained.classify_batch([t for t, _ in held_out])
    accuracy = np.mean([s.category == c for s, (_, c) in zip(suggestions, held_out)])
    assert accuracy >= 0.9
    assert all(0.0 <= s.confidence <= 1.0 for s in suggestions)
    assert all(s.category in CATEGORIES for s in suggestions)


def test_single_message_path_agrees_with_batch(trained: LearnedClassifier) -> None:
    texts = [t for t, _ in examples(3, seed=5)]
    model = trained._model
    one_by_one = np.vstack([model.scorer.scores(t) for t in texts])
    assert np.allclose(one_by_one, _scores(model.pipeline, texts))
    batch = trained.classify_batch(texts)
    single = [trained.classify_text(t) for t in texts]
    assert [s.category for s in batch] == [s.category for s in single]
    assert np.allclose([s.confidence for s in batch], [s.confidence for s in single])


def test_reasons_and_urgency_source(trained: LearnedClassifier) -> None:
    learned = LearnedClassifier(LABELS, urgency_of=lambda m: ("critical", ["urgency from rules"]))
    learned.install(trained._model, 150)
    s = learned.classify(message("Dashboard crashes", "The dashboard page crashes with an error"))
    assert (s.category, s.urgency) == ("bug", "critical")
    assert s.reasons[0].startswith("learned model (150 examples): bug p=")
    assert "urgency from rules" in s.reasons


def test_version_hashes_the_training_set_not_its_order() -> None:
    rows = examples(6, seed=3)
    a = LearnedClassifier(LABELS, params=ModelParams(calibrate=False))
    b = LearnedClassifier(LABELS, params=ModelParams(calibrate=False))
    assert a.train(rows) == b.train(list(reversed(rows)))
    assert a.train(rows + [("refund my invoice please", "billing")]) != b.version
    assert a.version.startswith("learned-") and len(a.version) == 16


def test_examples_outside_the_categories_are_dropped() -> None:
    learned = LearnedClassifier(LABELS, min_training_examples=10)
    rows = examples(5) + [("send money to this account", "wire_money")] * 50
    learned.train(rows)
    assert learned._model.classes == tuple(sorted(CATEGORIES))
    assert learned.classify_text("send money to this account").category in CATEGORIES


def test_confidence_is_calibrated_not_saturated(trained: LearnedClassifier) -> None:
    # A text about nothing in the training set must not be classified with high confidence.
    s = trained.classify_text("zebra quantum lighthouse marmalade")
    assert s.confidence < 0.6
    clear = trained.classify_text("Please refund the payment for the Pro plan")
    assert clear.category == "billing" and clear.confidence > s.confidence


class _GatedLearned(LearnedClassifier):
    """A learned classifier whose fitting waits for the test to open a gate."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.fitting = threading.Event()

    def fit(self, rows):
        self.fitting.set()
        assert self.gate.wait(10)
        return super().fit(rows)


def test_background_retrain_never_blocks_classify() -> None:
    learned = _GatedLearned(LABELS, min_training_examples=30, params=ModelParams(calibrate=False))
    retraining = RetrainingClassifier(learned, retrain_after=5)
    learned.gate.set()
    first = retraining.train(examples(8, seed=2))
    learned.gate.clear()
    learned.fitting.clear()
    threads = [retraining.add_label(t, c) for t, c in examples(1, seed=11)[:5]]
    assert threads[:4] == [None] * 4 and threads[4] is not None
    assert learned.fitting.wait(5)
    # Training is stuck behind the gate; classification still answers with the old model.
    for _ in range(20):
        assert retraining.classify(message("refund my invoice")).classification_version == first
    assert threads[4].is_alive()
    learned.gate.set()
    assert retraining.wait(30)
    assert retraining.version != first and retraining.retrain_count == 1
    assert retraining.last_error == ""


def test_labels_arriving_during_a_retrain_are_picked_up() -> None:
    learned = _GatedLearned(LABELS, min_training_examples=30, params=ModelParams(calibrate=False))
    retraining = RetrainingClassifier(learned, retrain_after=2)
    learned.gate.set()
    retraining.train(examples(8, seed=2))
    learned.gate.clear()
    learned.fitting.clear()
    retraining.add_label("refund for the Team plan", "billing")
    thread = retraining.add_label("refund for the Pro plan", "billing")
    assert thread is not None and learned.fitting.wait(5)
    assert retraining.add_label("one more refund", "billing") is None  # one thread at a time
    learned.gate.set()
    assert retraining.wait(30)
    assert retraining.retrain_count == 2  # the late label caused a second pass
    assert learned._model.n_examples == 48 + 3


def test_a_failing_retrain_keeps_the_old_model() -> None:
    learned = LearnedClassifier(LABELS, params=ModelParams(calibrate=False))
    retraining = RetrainingClassifier(learned, retrain_after=1)
    before = retraining.train(examples(8, seed=2))

    def broken(rows):
        raise MemoryError("out of memory while fitting")

    learned.fit = broken
    retraining.add_label("x", "bug")
    assert retraining.wait(10)
    assert retraining.version == before
    assert "MemoryError" in retraining.last_error
    assert not retraining.classify(message("Please refund the payment")).needs_human


def test_train_in_background_keeps_answering_with_the_old_model() -> None:
    learned = _GatedLearned(LABELS, min_training_examples=30, params=ModelParams(calibrate=False))
    retraining = RetrainingClassifier(learned, retrain_after=100)
    learned.gate.set()
    first = retraining.train(examples(8, seed=2))
    learned.gate.clear()
    learned.fitting.clear()
    assert retraining.train(examples(9, seed=3), background=True) == first  # returns at once
    assert learned.fitting.wait(5)
    assert retraining.classify(message("refund my invoice")).classification_version == first
    learned.gate.set()
    assert retraining.wait(30)
    assert retraining.version != first and learned._model.n_examples == 54
