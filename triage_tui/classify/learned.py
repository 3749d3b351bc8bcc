"""The learned classifier: trained on approved human decisions, retrained in the background."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from triage_tui.classify.labels import Labels, short_hash
from triage_tui.classify.model import ModelParams, TrainedModel, fit_model
from triage_tui.classify.text import VisibleText, collapse, hygiene, message_text, visible
from triage_tui.domain import InboundMessage, Suggestion

log = logging.getLogger(__name__)

UrgencyOf = Callable[[InboundMessage], tuple[str, list[str]]]
UNTRAINED = "learned-untrained"


def clean_examples(
    examples: Iterable[tuple[str, str]], categories: Iterable[str]
) -> tuple[list[tuple[str, str]], int]:
    """Visible, collapsed texts with a known category; and how many examples were dropped."""
    allowed = set(categories)
    kept: list[tuple[str, str]] = []
    dropped = 0
    for text, category in examples:
        plain = collapse(visible(text or "").text)
        if plain and category in allowed:
            kept.append((plain, category))
        else:
            dropped += 1
    return kept, dropped


def training_version(examples: list[tuple[str, str]], params: ModelParams) -> str:
    """'learned-<sha8>' of the sorted training set and the model parameters."""
    return "learned-" + short_hash({"examples": sorted(examples), "params": params.as_dict()})


class SwappableModel:
    """Training for a classifier whose fitted model (from `fit`) is swapped in one assignment."""

    _model = None
    _examples_seen = 0

    @property
    def trained(self) -> bool:
        """True once a model is in place."""
        return self._model is not None

    def fit(self, examples: Iterable[tuple[str, str]]):
        """A fitted model, not installed; None when there is too little to learn from."""
        raise NotImplementedError

    def install(self, model, examples_seen: int) -> None:
        """Swap the model in one assignment: readers see the old or the new, never half."""
        self._examples_seen = examples_seen
        self._model = model

    def train(self, examples: Iterable[tuple[str, str]]) -> str:
        """Train on (text, category) examples (e.g. approved decisions); returns the version."""
        examples = list(examples)
        self.install(self.fit(examples), len(examples))
        return self.version


class LearnedClassifier(SwappableModel):
    """TF-IDF + linear model over the configured categories; defers when it knows too little."""

    name = "learned"

    def __init__(
        self,
        labels: Labels,
        *,
        min_training_examples: int = 30,
        params: ModelParams | None = None,
        urgency_of: UrgencyOf | None = None,
    ) -> None:
        self.labels = labels
        self.min_training_examples = max(2, min_training_examples)
        self.params = params or ModelParams()
        self.urgency_of = urgency_of
        self._model: TrainedModel | None = None
        self._examples_seen = 0

    @property
    def version(self) -> str:
        """'learned-<sha8>' of the current training set, or 'learned-untrained'."""
        model = self._model
        return model.version if model else UNTRAINED

    def describe(self) -> str:
        """What answers right now, in a few words."""
        model = self._model
        if model is None:
            return f"TF-IDF, untrained until {self.min_training_examples} decisions"
        return f"TF-IDF model on {model.n_examples} examples"

    def fit(self, examples: Iterable[tuple[str, str]]) -> TrainedModel | None:
        """Fit a model without installing it; None when there are too few usable examples."""
        kept, _ = clean_examples(examples, self.labels.categories)
        if len(kept) < self.min_training_examples or len({c for _, c in kept}) < 2:
            return None
        texts = [t for t, _ in kept]
        categories = [c for _, c in kept]
        return fit_model(texts, categories, self.params, training_version(kept, self.params))


    def classify(self, message: InboundMessage) -> Suggestion:
        """Classify a message's visible subject and body; urgency from `urgency_of` if given."""
        urgency, reasons = self.urgency_of(message) if self.urgency_of else ("", [])
        return self._suggest(message_text(message), urgency, reasons)

    def classify_text(self, text: str) -> Suggestion:
        """Classify bare text."""
        seen = visible(text)
        return self._suggest(VisibleText(collapse(seen.text), seen.hidden), "", [])

    def classify_batch(self, texts: list[str]) -> list[Suggestion]:
        """Classify many bare texts with one vectorised model call."""
        model = self._model
        if model is None:
            return [self.classify_text(t) for t in texts]
        seen = [visible(t) for t in texts]
        plain = [collapse(s.text) for s in seen]
        probs = model.probabilities(plain)
        return [
            self._from_probs(model, row, text, s.hidden, "", [])
            for row, text, s in zip(probs, plain, seen)
        ]

    def predict(self, texts: list[str]) -> list[str]:
        """Only the best category for each text: the throughput path for evaluation."""
        model = self._model
        if model is None:
            return [self.labels.fallback_category] * len(texts)
        return model.predict([collapse(visible(t).text) for t in texts])

    def _suggest(self, seen: VisibleText, urgency: str, reasons: list[str]) -> Suggestion:
        model = self._model
        if model is None:
            return self.labels.unsure(
                f"learned model has {self._examples_seen} examples, needs "
                f"{self.min_training_examples}; deferring",
                UNTRAINED,
                urgency=urgency,
            )
        probs = model.probabilities([seen.text])[0]
        return self._from_probs(model, probs, seen.text, seen.hidden, urgency, reasons)

    def _from_probs(
        self, model, probs, text: str, hidden, urgency: str, extra: list[str]
    ) -> Suggestion:
        order = probs.argsort()[::-1]
        best, runner = order[0], order[1] if len(order) > 1 else order[0]
        reasons = [
            f"learned model ({model.n_examples} examples): {model.classes[best]} "
            f"p={probs[best]:.2f}, next {model.classes[runner]} p={probs[runner]:.2f}",
            *extra,
        ]
        warnings, unsure = hygiene(VisibleText(text, hidden))
        reasons += warnings
        return self.labels.suggestion(
            model.classes[best], urgency or self.labels.default_urgency, float(probs[best]),
            reasons, model.version, unsure=unsure,
        )


class RetrainingClassifier:
    """A learned (or embed) classifier that retrains in a background thread after N new labels."""

    def __init__(
        self,
        learned: LearnedClassifier,
        *,
        retrain_after: int = 25,
        base_examples: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.learned = learned
        self.retrain_after = max(1, retrain_after)
        self._base = list(base_examples)
        self._labels: list[tuple[str, str]] = []
        self._pending = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.last_error = ""
        self.retrain_count = 0

    @property
    def name(self) -> str:
        """The wrapped classifier's name (learned or embed)."""
        return self.learned.name

    @property
    def version(self) -> str:
        """The version of the model currently answering."""
        return self.learned.version

    def prepare_batch(self, messages: list[InboundMessage]) -> None:
        """Batch work ahead of classify, when the wrapped classifier has any."""
        prepare = getattr(self.learned, "prepare_batch", None)
        if prepare is not None:
            prepare(messages)

    def classify(self, message: InboundMessage) -> Suggestion:
        """Never waits for training: answers with whichever model is installed."""
        return self.learned.classify(message)

    def classify_text(self, text: str) -> Suggestion:
        """Classify bare text with the installed model."""
        return self.learned.classify_text(text)

    def classify_batch(self, texts: list[str]) -> list[Suggestion]:
        """Classify many bare texts with the installed model."""
        return self.learned.classify_batch(texts)

    def train(self, examples: Iterable[tuple[str, str]], *, background: bool = False) -> str:
        """Replace the labelled set (every approved decision in the store) and retrain.

        In the background the current model keeps answering until the new one is swapped in.
        """
        with self._lock:
            self._labels = list(examples)
            if background:
                self._pending += 1
            else:
                self._pending = 0
            snapshot = self._base + self._labels
        if background:
            self.retrain_in_background()
            return self.version
        self.learned.install(self.learned.fit(snapshot), len(snapshot))
        return self.version

    def add_label(self, text: str, category: str) -> threading.Thread | None:
        """Record one approved decision; starts a background retrain every `retrain_after`."""
        with self._lock:
            self._labels.append((text, category))
            self._pending += 1
            due = self._pending >= self.retrain_after
        return self.retrain_in_background() if due else None

    def retrain_in_background(self) -> threading.Thread | None:
        """Start a retrain thread unless one is running (it picks up any new labels)."""
        with self._lock:
            if self._thread is not None:
                return None
            self._thread = threading.Thread(target=self._retrain_loop, name="retrain", daemon=True)
            self._thread.start()
            return self._thread

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running retrain; True when none is left running."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _retrain_loop(self) -> None:
        while True:
            with self._lock:
                if self._pending == 0:
                    self._thread = None
                    return
                self._pending = 0
                snapshot = self._base + self._labels
            try:
                self.learned.install(self.learned.fit(snapshot), len(snapshot))
                self.retrain_count += 1
            except Exception as exc:  # a bad retrain must not kill ingest; keep the old model
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("background retrain failed; keeping %s", self.version)
                with self._lock:
                    self._thread = None
                return
