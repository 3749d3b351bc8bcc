"""The embed classifier: MiniLM sentence embeddings with TF-IDF, useful from the first message.

Before the team has decided enough messages, the ruleset's example sentences are prototypes:
a message is compared with each category's centroid and the result is blended with the rules.
Once there are `min_training_examples` decisions, a joint linear model (embed_model.py) trained
on the decisions plus the examples answers instead, and retrains in the background.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable

import numpy as np

from triage_tui.classify.embed_model import EmbedModel, EmbedParams, fit_embed_model
from triage_tui.classify.labels import Labels, short_hash
from triage_tui.classify.learned import SwappableModel, clean_examples
from triage_tui.classify.model import fit_temperature, softmax
from triage_tui.classify.text import VisibleText, collapse, hygiene, message_text, visible
from triage_tui.domain import InboundMessage, Suggestion

UrgencyOf = Callable[[InboundMessage], tuple[str, list[str]]]
RuleScores = Callable[[InboundMessage | None, str], dict[str, float]]
UNTRAINED = "embed-untrained"
CACHE_SIZE = 20_000
PROTOTYPE_TEMPERATURE = 0.05
RULES_SHARE = 0.5  # weight of the rules' distribution in the blend, when a rule fired


class EmbeddingCache:
    """Embeddings of recently seen texts (LRU): training reuses what classifying computed."""

    def __init__(self, encoder, size: int = CACHE_SIZE) -> None:
        self.encoder = encoder
        self.size = size
        self._rows: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        """One unit-length row per text."""
        out = np.empty((len(texts), self.encoder.dimension), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for i, text in enumerate(texts):
                row = self._rows.get(text)
                if row is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self._rows.move_to_end(text)
                    out[i] = row
        if missing:
            fresh = self.encoder.encode(list(missing))
            with self._lock:
                for (text, rows), vector in zip(missing.items(), fresh):
                    out[rows] = vector
                    self._rows[text] = vector
                while len(self._rows) > self.size:
                    self._rows.popitem(last=False)
        return out

    def clear(self) -> None:
        """Forget every cached embedding."""
        with self._lock:
            self._rows.clear()


_caches: dict[int, EmbeddingCache] = {}
_caches_lock = threading.Lock()


def shared_cache(encoder) -> EmbeddingCache:
    """The one embedding cache of an encoder: every classifier built on it shares what it saw."""
    with _caches_lock:
        cache = _caches.get(id(encoder))
        if cache is None or cache.encoder is not encoder:
            cache = _caches[id(encoder)] = EmbeddingCache(encoder)
        return cache


class Prototypes:
    """Category centroids of example sentences, with a temperature fitted leave-one-out."""

    def __init__(self, examples: dict[str, list[str]], embed: EmbeddingCache) -> None:
        self.classes = tuple(sorted(c for c, texts in examples.items() if texts))
        texts = [t for c in self.classes for t in examples[c]]
        owners = np.array([self.classes.index(c) for c in self.classes for _ in examples[c]])
        vectors = embed(texts)
        sums = np.stack([vectors[owners == k].sum(axis=0) for k in range(len(self.classes))])
        self.centroids = _unit(sums)
        self.count = len(texts)
        self.temperature = PROTOTYPE_TEMPERATURE
        counts = np.bincount(owners, minlength=len(self.classes))
        if len(self.classes) >= 2 and counts.min() >= 2:
            # Each example against the centroids with itself left out of its own.
            own = _unit(sums[owners] - vectors)
            sims = vectors @ self.centroids.T
            sims[np.arange(len(texts)), owners] = np.einsum("ij,ij->i", vectors, own)
            self.temperature = fit_temperature(sims, owners)
        self.version = "proto-" + short_hash(sorted((c, t) for c in self.classes for t in examples[c]))

    def probabilities(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cosine similarity to each centroid, calibrated probabilities)."""
        sims = self.centroids @ vector
        return sims, softmax(sims[np.newaxis, :], self.temperature)[0]


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)


class EmbedClassifier(SwappableModel):
    """Sentence embeddings + TF-IDF over the configured categories; prototypes until trained."""

    name = "embed"

    def __init__(
        self,
        labels: Labels,
        encoder,
        *,
        examples: dict[str, list[str]] | None = None,
        rule_scores: RuleScores | None = None,
        urgency_of: UrgencyOf | None = None,
        min_training_examples: int = 30,
        params: EmbedParams | None = None,
        target_accuracy: float = 0.98,
        weights_version: str = "",
    ) -> None:
        self.labels = labels
        self.embed = encoder if isinstance(encoder, EmbeddingCache) else shared_cache(encoder)
        self.examples = {c: list(t) for c, t in (examples or {}).items() if c in labels.categories}
        self.rule_scores = rule_scores
        self.urgency_of = urgency_of
        self.min_training_examples = max(2, min_training_examples)
        self.params = params or EmbedParams()
        self.target_accuracy = target_accuracy
        self.weights_version = weights_version
        usable = {c: t for c, t in self.examples.items() if t}
        self.prototypes = Prototypes(usable, self.embed) if len(usable) >= 2 else None
        self._model: EmbedModel | None = None
        self._examples_seen = 0

    @property
    def version(self) -> str:
        """'embed-<sha8>' of the training set, 'embed-proto-<sha8>' of the examples, or untrained."""
        if self._model is not None:
            return self._model.version
        if self.prototypes is not None:
            return "embed-" + self.prototypes.version
        return UNTRAINED

    def describe(self) -> str:
        """What answers right now, in a few words."""
        if self._model is not None:
            return f"embed model ({self._model.kind}) on {self._model.n_examples} examples"
        if self.prototypes is not None:
            return f"embed prototypes from {self.prototypes.count} ruleset examples"
        return "embed, untrained"

    def fit(self, examples: Iterable[tuple[str, str]]) -> EmbedModel | None:
        """Fit without installing; None while decisions are fewer than min_training_examples."""
        kept, _ = clean_examples(examples, self.labels.categories)
        seeds = [(collapse(visible(t).text), c) for c, texts in self.examples.items() for t in texts]
        rows = kept + [s for s in seeds if s[0]]
        if len(kept) < self.min_training_examples or len({c for _, c in rows}) < 2:
            return None
        texts = [t for t, _ in rows]
        categories = [c for _, c in rows]
        version = "embed-" + short_hash({"examples": sorted(rows), "params": self.params.as_dict(),
                                         "weights": self.weights_version})
        return fit_embed_model(texts, self.embed(texts), categories, self.params, version,
                               target_accuracy=self.target_accuracy)

    def forget_embeddings(self) -> None:
        """Drop cached embeddings, so the next calls pay for the encoder (for timing)."""
        self.embed.clear()

    def prepare_batch(self, messages: list[InboundMessage]) -> None:
        """Embed many messages in one batched pass (ingest calls this before classify)."""
        self.embed([message_text(m).text for m in messages])

    def classify(self, message: InboundMessage) -> Suggestion:
        """Classify a message's visible subject and body; urgency from the rules."""
        urgency, reasons = self.urgency_of(message) if self.urgency_of else ("", [])
        seen = message_text(message)
        return self._suggest(seen, self.embed([seen.text])[0], urgency, reasons, message)

    def classify_text(self, text: str) -> Suggestion:
        """Classify bare text."""
        seen = visible(text)
        plain = VisibleText(collapse(seen.text), seen.hidden)
        return self._suggest(plain, self.embed([plain.text])[0], "", [], None)

    def classify_batch(self, texts: list[str]) -> list[Suggestion]:
        """Classify many bare texts with one batched embedding pass and one model call."""
        seen = [visible(t) for t in texts]
        plain = [VisibleText(collapse(s.text), s.hidden) for s in seen]
        vectors = self.embed([p.text for p in plain])
        model = self._model
        if model is None:
            return [self._suggest(p, v, "", [], None) for p, v in zip(plain, vectors)]
        probs = model.probabilities([p.text for p in plain], vectors)
        return [self._from_model(model, row, p, "", []) for row, p in zip(probs, plain)]

    def predict(self, texts: list[str]) -> list[str]:
        """Only the best category for each text: the throughput path for evaluation."""
        model = self._model
        if model is None:
            return [s.category for s in self.classify_batch(texts)]
        plain = [collapse(visible(t).text) for t in texts]
        best = model.probabilities(plain, self.embed(plain)).argmax(axis=1)
        return [model.classes[i] for i in best]

    def _suggest(self, seen: VisibleText, vector: np.ndarray, urgency: str, reasons: list[str],
                 message: InboundMessage | None) -> Suggestion:
        model = self._model
        if model is not None:
            probs = model.probabilities([seen.text], vector[np.newaxis, :])[0]
            return self._from_model(model, probs, seen, urgency, reasons)
        if self.prototypes is None:
            return self.labels.unsure(
                f"embed model has {self._examples_seen} examples, needs "
                f"{self.min_training_examples}, and the ruleset has no category examples; deferring",
                UNTRAINED, urgency=urgency,
            )
        return self._from_prototypes(seen, vector, urgency, reasons, message)

    def _from_model(self, model: EmbedModel, probs, seen: VisibleText, urgency: str,
                    extra: list[str]) -> Suggestion:
        order = probs.argsort()[::-1]
        best, runner = order[0], order[1] if len(order) > 1 else order[0]
        labels = self.labels
        if model.threshold is not None:
            labels = Labels(labels.categories, labels.urgencies, model.threshold)
        bar = ("" if model.threshold is None else
               f"; sure above {model.threshold:.2f} ({self.target_accuracy:.0%} right held out)")
        reasons = [
            f"embed model ({model.n_examples} examples): {model.classes[best]} p={probs[best]:.2f}, "
            f"next {model.classes[runner]} p={probs[runner]:.2f}{bar}",
            *extra,
        ]
        return self._finish(labels, model.classes[best], float(probs[best]), seen, urgency,
                            reasons, model.version)

    def _from_prototypes(self, seen: VisibleText, vector: np.ndarray, urgency: str,
                         extra: list[str], message: InboundMessage | None) -> Suggestion:
        prototypes = self.prototypes
        sims, proto = prototypes.probabilities(vector)
        categories = self.labels.categories
        probs = np.zeros(len(categories))
        for k, name in enumerate(prototypes.classes):
            probs[categories.index(name)] = proto[k]
        scores = self.rule_scores(message, seen.text) if self.rule_scores else {}
        fired = {c: s for c, s in scores.items() if c in categories and s > 0}
        if fired:
            total = sum(fired.values()) + 1.0
            rules = np.full(len(categories), 1.0 / (total * len(categories)))
            for name, score in fired.items():
                rules[categories.index(name)] += score / total
            probs = (1 - RULES_SHARE) * probs + RULES_SHARE * rules
        best = int(probs.argmax())
        name = categories[best]
        near = prototypes.classes.index(name) if name in prototypes.classes else int(sims.argmax())
        rule_text = ", ".join(f"{c} +{s:g}" for c, s in sorted(fired.items(), key=lambda kv: -kv[1]))
        reasons = [
            f"embed prototypes ({prototypes.count} ruleset examples): {name} p={probs[best]:.2f}, "
            f"similarity {sims[near]:.2f}" + (f"; rules {rule_text}" if fired else "; no rule fired"),
            *extra,
        ]
        return self._finish(self.labels, name, float(probs[best]), seen, urgency, reasons,
                            self.version)

    def _finish(self, labels: Labels, category: str, confidence: float, seen: VisibleText,
                urgency: str, reasons: list[str], version: str) -> Suggestion:
        warnings, unsure = hygiene(seen)
        return labels.suggestion(category, urgency or labels.default_urgency, confidence,
                                 reasons + warnings, version, unsure=unsure)
