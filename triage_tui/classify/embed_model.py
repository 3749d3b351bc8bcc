"""The embed text model: [TF-IDF | weight x sentence embedding] -> LinearSVC, calibrated softmax.

The TF-IDF half is the learned classifier's (word 1-2 + char_wb 2-5 grams); the embedding half
is MiniLM-L6. Confidence is a softmax of the decision values at a temperature fitted out of
fold, and the same out-of-fold answers set the threshold below which a human decides.

With few examples per category a second model helps: a logistic regression on the embedding
alone, whose calibrated probabilities are averaged with the joint model's ("average"). The
"auto" kind keeps the average only when its out-of-fold answers beat the joint model's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
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
Kind = Literal["auto", "joint", "average"]


@dataclass(frozen=True)
class EmbedParams:
    """Hyper-parameters (chosen by cross-validation on BANKING77's train split)."""

    kind: Kind = "auto"
    embedding_weight: float = 2.0
    C: float = 0.5
    embedding_C: float = 30.0  # the embedding-only logistic regression of the "average" kind
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


def fit_embedding_model(embeddings: np.ndarray, categories, C: float) -> LogisticRegression:
    """The logistic regression on the embedding alone (the second half of "average")."""
    return LogisticRegression(C=C, max_iter=3000).fit(embeddings, categories)


def linear_values(coef: np.ndarray, intercept: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """Decision values of a linear model on the embeddings, two columns for two classes."""
    return two_columns(embeddings @ coef.T + intercept)


@dataclass(frozen=True)
class EmbedModel:
    """A fitted joint model (plus, for "average", the embedding model) with its temperatures,
    threshold and version; never mutated."""

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
    kind: str = "joint"  # "joint" or "average"
    second: tuple[np.ndarray, np.ndarray, float] | None = None  # (coef, intercept, temperature)

    def scores(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
        """The joint model's decision values; one text takes the sparse-free path."""
        if len(texts) == 1:
            total = self.scorer.raw(texts[0]) + self.embedding_coef @ embeddings[0]
            return two_columns(total)[np.newaxis, :]
        return decision_values(self.features, self.svc, texts, embeddings, self.weight)

    def probabilities(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities, columns in `classes` order."""
        probs = softmax(self.scores(texts, embeddings), self.temperature)
        if self.second is not None:
            coef, intercept, temperature = self.second
            probs += softmax(linear_values(coef, intercept, embeddings), temperature)
            probs /= 2.0
        return probs


def _place(values: np.ndarray, rows: np.ndarray, part: np.ndarray, columns: list[int]) -> None:
    """Put one fold's decision values into the out-of-fold matrix, in `classes` order."""
    if len(columns) == values.shape[1]:
        values[np.ix_(rows, columns)] = part
    else:  # a fold without some class: it scores lowest there
        values[rows] = part.min() - 1.0
        values[np.ix_(rows, columns)] = part[:, :len(columns)]


def out_of_fold(texts: list[str], embeddings: np.ndarray, categories: list[str],
                params: EmbedParams, classes: tuple[str, ...], folds: int, *,
                embedding_model: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Decision values for every example from models that did not see it: the joint model's,
    and (with `embedding_model`) the embedding-only logistic regression's on the same folds."""
    width = max(2, len(classes))
    values = np.zeros((len(texts), width))
    second = np.zeros((len(texts), width)) if embedding_model else None
    y = np.array(categories)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train, held in splitter.split(texts, y):
        features, svc = fit_joint([texts[i] for i in train], embeddings[train], y[train], params)
        part = decision_values(features, svc, [texts[i] for i in held], embeddings[held],
                               params.embedding_weight)
        _place(values, held, part, [classes.index(str(c)) for c in svc.classes_])
        if second is not None:
            model = fit_embedding_model(embeddings[train], y[train], params.embedding_C)
            part = linear_values(model.coef_, model.intercept_, embeddings[held])
            _place(second, held, part, [classes.index(str(c)) for c in model.classes_])
    return values, second


def fit_embed_model(texts: list[str], embeddings: np.ndarray, categories: list[str],
                    params: EmbedParams, version: str, *, target_accuracy: float = 0.98
                    ) -> EmbedModel:
    """Fit the model of `params.kind`; calibrate, choose the kind ("auto") and set the
    threshold out of fold when data allows ("auto" without held-out answers is "joint")."""
    features, svc = fit_joint(texts, embeddings, categories, params)
    classes = tuple(str(c) for c in svc.classes_)
    temperature, second_temperature, threshold = DEFAULT_TEMPERATURE, DEFAULT_TEMPERATURE, None
    smallest = min(categories.count(c) for c in classes)
    kind = params.kind
    if params.calibrate and smallest >= 2:
        values, second = out_of_fold(texts, embeddings, categories, params, classes,
                                     min(3, smallest), embedding_model=kind != "joint")
        truth = np.array([classes.index(c) for c in categories])
        temperature = fit_temperature(values, truth)
        probs = softmax(values, temperature)
        if second is not None:
            second_temperature = fit_temperature(second, truth)
            averaged = (probs + softmax(second, second_temperature)) / 2.0
            better = np.mean(averaged.argmax(axis=1) == truth) > np.mean(probs.argmax(axis=1) == truth)
            if kind == "average" or better:
                kind, probs = "average", averaged
        if len(texts) >= MIN_ANSWERS_FOR_THRESHOLD:
            threshold = risk.threshold_for(probs.max(axis=1), probs.argmax(axis=1) == truth,
                                           target_accuracy, z=THRESHOLD_Z)
            threshold = 1.0 if threshold is None else threshold
    kind = "joint" if kind == "auto" else kind
    extra = None
    if kind == "average":
        model = fit_embedding_model(embeddings, categories, params.embedding_C)
        extra = (np.ascontiguousarray(model.coef_), model.intercept_, second_temperature)
    coef = svc.coef_
    width = sum(len(v.vocabulary_) for _, v in features.transformer_list)
    scorer = SingleTextScorer(features, coef[:, :width], svc.intercept_)
    return EmbedModel(features, svc, classes, temperature, threshold, version, len(texts),
                      params.embedding_weight, scorer,
                      np.ascontiguousarray(coef[:, width:] * params.embedding_weight), kind, extra)
