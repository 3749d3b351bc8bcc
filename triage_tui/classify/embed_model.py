"""The embed text model: [TF-IDF | weight x sentence embedding] -> LinearSVC, calibrated softmax.

The TF-IDF half is the learned classifier's (word 1-2 + char_wb 2-5 grams); the embedding half
is MiniLM-L6. Confidence is a softmax of the decision values at a temperature fitted out of
fold, and the same out-of-fold answers set the threshold below which a human decides.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import sparse
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from triage_tui.classify import risk
from triage_tui.classify.model import (
    DEFAULT_TEMPERATURE,
    ModelParams,
    SingleTextScorer,
    build_features,
    fit_temperature,
    softmax,
    two_columns,
)

# Fewer out-of-fold answers than this give too rough a curve to set a threshold from.
MIN_ANSWERS_FOR_THRESHOLD = 200
# The held-out accuracy above the threshold must reach the target at 95 % confidence (one-sided).
THRESHOLD_Z = 1.645


@dataclass(frozen=True)
class EmbedParams:
    """Hyper-parameters (chosen by cross-validation on BANKING77's train split)."""

    embedding_weight: float = 2.0
    C: float = 0.5
    tfidf: ModelParams = field(default_factory=ModelParams)
    calibrate: bool = True

    def as_dict(self) -> dict:
        """A JSON-friendly dict, used in the training-set hash."""
        return asdict(self)


def joint(tfidf: sparse.spmatrix, embeddings: np.ndarray, weight: float) -> sparse.csr_matrix:
    """One sparse matrix: the TF-IDF columns, then the weighted embedding columns."""
    return sparse.hstack([tfidf, sparse.csr_matrix(embeddings * weight)], format="csr")


def fit_joint(texts: list[str], embeddings: np.ndarray, categories, params: EmbedParams
              ) -> tuple[FeatureUnion, LinearSVC]:
    """Fit the TF-IDF features and the linear model on one training set."""
    features = build_features(params.tfidf)
    x = joint(features.fit_transform(texts), embeddings, params.embedding_weight)
    return features, LinearSVC(C=params.C).fit(x, categories)


def decision_values(features: FeatureUnion, svc: LinearSVC, texts: list[str],
                    embeddings: np.ndarray, weight: float) -> np.ndarray:
    """Decision values, two columns for a two-class model."""
    values = svc.decision_function(joint(features.transform(texts), embeddings, weight))
    return two_columns(values[:, np.newaxis]) if values.ndim == 1 else values


@dataclass(frozen=True)
class EmbedModel:
    """A fitted joint model with its temperature, threshold and version; never mutated."""

    features: FeatureUnion
    svc: LinearSVC
    classes: tuple[str, ...]
    temperature: float
    threshold: float | None  # None: too few held-out answers; the configured minimum applies
    version: str
    n_examples: int
    weight: float
    scorer: SingleTextScorer
    embedding_coef: np.ndarray

    def scores(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
        """Decision values; one text takes the sparse-free path."""
        if len(texts) == 1:
            total = self.scorer.raw(texts[0]) + self.embedding_coef @ embeddings[0]
            return two_columns(total)[np.newaxis, :]
        return decision_values(self.features, self.svc, texts, embeddings, self.weight)

    def probabilities(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities, columns in `classes` order."""
        return softmax(self.scores(texts, embeddings), self.temperature)


def out_of_fold(texts: list[str], embeddings: np.ndarray, categories: list[str],
                params: EmbedParams, classes: tuple[str, ...], folds: int) -> np.ndarray:
    """Decision values for every example from a model that did not see it."""
    values = np.zeros((len(texts), max(2, len(classes))))
    y = np.array(categories)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train, held in splitter.split(texts, y):
        features, svc = fit_joint([texts[i] for i in train], embeddings[train], y[train], params)
        part = decision_values(features, svc, [texts[i] for i in held], embeddings[held],
                               params.embedding_weight)
        columns = [classes.index(str(c)) for c in svc.classes_]
        if len(columns) == values.shape[1]:
            values[np.ix_(held, columns)] = part
        else:  # a fold without some class: it scores lowest there
            values[held] = part.min() - 1.0
            values[np.ix_(held, columns)] = part[:, :len(columns)]
    return values


def fit_embed_model(texts: list[str], embeddings: np.ndarray, categories: list[str],
                    params: EmbedParams, version: str, *, target_accuracy: float = 0.98
                    ) -> EmbedModel:
    """Fit the joint model; calibrate and set the threshold out of fold when data allows."""
    features, svc = fit_joint(texts, embeddings, categories, params)
    classes = tuple(str(c) for c in svc.classes_)
    temperature, threshold = DEFAULT_TEMPERATURE, None
    smallest = min(categories.count(c) for c in classes)
    if params.calibrate and smallest >= 2:
        values = out_of_fold(texts, embeddings, categories, params, classes, min(3, smallest))
        truth = np.array([classes.index(c) for c in categories])
        temperature = fit_temperature(values, truth)
        if len(texts) >= MIN_ANSWERS_FOR_THRESHOLD:
            probs = softmax(values, temperature)
            threshold = risk.threshold_for(probs.max(axis=1), probs.argmax(axis=1) == truth,
                                           target_accuracy, z=THRESHOLD_Z)
            threshold = 1.0 if threshold is None else threshold
    coef = svc.coef_
    width = sum(len(v.vocabulary_) for _, v in features.transformer_list)
    scorer = SingleTextScorer(features, coef[:, :width], svc.intercept_)
    return EmbedModel(features, svc, classes, temperature, threshold, version, len(texts),
                      params.embedding_weight, scorer,
                      np.ascontiguousarray(coef[:, width:] * params.embedding_weight))
