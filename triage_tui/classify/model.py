"""The text model: word + character n-gram TF-IDF, a linear classifier, calibrated softmax."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

DEFAULT_TEMPERATURE = 0.3


@dataclass(frozen=True)
class ModelParams:
    """Hyper-parameters of the text model (chosen by cross-validation in the benchmark)."""

    word: bool = True
    char: bool = True
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    char_analyzer: Literal["char_wb", "char"] = "char_wb"
    estimator: Literal["svc", "logreg"] = "svc"
    C: float = 1.0
    calibrate: bool = True

    def as_dict(self) -> dict:
        """A JSON-friendly dict, used in the training-set hash."""
        return asdict(self)


def build_features(params: ModelParams) -> FeatureUnion:
    """The unfitted TF-IDF feature union (word and/or character n-grams)."""
    parts = []
    if params.word:
        parts.append(("word", TfidfVectorizer(ngram_range=params.word_ngrams, sublinear_tf=True)))
    if params.char or not parts:
        vectorizer = TfidfVectorizer(
            analyzer=params.char_analyzer, ngram_range=params.char_ngrams, sublinear_tf=True
        )
        parts.append(("char", vectorizer))
    return FeatureUnion(parts)


def build_estimator(params: ModelParams) -> LinearSVC | LogisticRegression:
    """The unfitted linear classifier."""
    if params.estimator == "logreg":
        return LogisticRegression(C=params.C, max_iter=3000)
    return LinearSVC(C=params.C)


def build_pipeline(params: ModelParams) -> Pipeline:
    """An unfitted scikit-learn pipeline for these parameters."""
    return Pipeline([("features", build_features(params)), ("clf", build_estimator(params))])


def _scores(pipeline: Pipeline, texts: list[str]) -> np.ndarray:
    values = pipeline.decision_function(texts)
    return two_columns(values[:, np.newaxis]) if values.ndim == 1 else values


def softmax(values: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax of decision values divided by a temperature."""
    scaled = values / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(values: np.ndarray, truth: np.ndarray) -> float:
    """The temperature that minimises the log-loss of out-of-fold decision values."""
    best_t, best_loss = DEFAULT_TEMPERATURE, np.inf
    rows = np.arange(len(truth))
    for temperature in np.geomspace(0.02, 5.0, 60):
        probs = softmax(values, temperature)
        loss = -np.mean(np.log(np.clip(probs[rows, truth], 1e-12, None)))
        if loss < best_loss:
            best_t, best_loss = float(temperature), loss
    return best_t


class SingleTextScorer:
    """Decision values for one text without sparse-matrix overhead (same as the pipeline)."""

    def __init__(self, features: FeatureUnion, coef: np.ndarray, intercept) -> None:
        self.parts = []
        offset = 0
        for _, vectorizer in features.transformer_list:
            vocabulary = vectorizer.vocabulary_
            self.parts.append((vectorizer.build_analyzer(), vocabulary, vectorizer.idf_, offset))
            offset += len(vocabulary)
        self.width = offset
        self.coef = coef
        self.intercept = np.asarray(intercept, dtype=float)

    @classmethod
    def of(cls, pipeline: Pipeline) -> "SingleTextScorer":
        """The scorer of a fitted TF-IDF pipeline."""
        estimator = pipeline.named_steps["clf"]
        return cls(pipeline.named_steps["features"], estimator.coef_, estimator.intercept_)

    def raw(self, text: str) -> np.ndarray:
        """The estimator's decision values (one value for a two-class model)."""
        total = self.intercept.copy()
        for analyzer, vocabulary, idf, offset in self.parts:
            counts = Counter(
                index for index in map(vocabulary.get, analyzer(text)) if index is not None
            )
            if not counts:
                continue
            index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=float, count=len(counts))
            values = (1.0 + np.log(tf)) * idf[index]
            values /= np.sqrt(values @ values)
            total += self.coef[:, offset + index] @ values
        return total

    def scores(self, text: str) -> np.ndarray:
        """One row of decision values, two columns for a two-class model."""
        return two_columns(self.raw(text))


def two_columns(total: np.ndarray) -> np.ndarray:
    """A two-class model's single margin as two columns; other rows unchanged."""
    if total.shape[-1] == 1:
        return np.concatenate([-total, total], axis=-1) / 2.0
    return total


@dataclass(frozen=True)
class TrainedModel:
    """A fitted pipeline with its classes, softmax temperature and version; never mutated."""

    pipeline: Pipeline
    classes: tuple[str, ...]
    temperature: float
    version: str
    n_examples: int

    scorer: SingleTextScorer

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """Calibrated class probabilities, columns in `classes` order."""
        if len(texts) == 1:
            return softmax(self.scorer.scores(texts[0])[np.newaxis, :], self.temperature)
        return softmax(_scores(self.pipeline, texts), self.temperature)

    def predict(self, texts: list[str]) -> list[str]:
        """The best class for each text (no probabilities: the fast path)."""
        best = _scores(self.pipeline, texts).argmax(axis=1)
        return [self.classes[i] for i in best]


def fit_model(
    texts: list[str], categories: list[str], params: ModelParams, version: str
) -> TrainedModel:
    """Fit the pipeline and, when there is data enough, calibrate its confidence out of fold."""
    pipeline = build_pipeline(params).fit(texts, categories)
    classes = tuple(str(c) for c in pipeline.classes_)
    temperature = DEFAULT_TEMPERATURE
    smallest = min(categories.count(c) for c in classes)
    if params.calibrate and smallest >= 2:
        folds = StratifiedKFold(n_splits=min(3, smallest), shuffle=True, random_state=0)
        out_of_fold = cross_val_predict(
            build_pipeline(params), texts, categories, cv=folds, method="decision_function"
        )
        if out_of_fold.ndim == 1:
            out_of_fold = two_columns(out_of_fold[:, np.newaxis])
        truth = np.array([classes.index(c) for c in categories])
        temperature = fit_temperature(out_of_fold, truth)
    return TrainedModel(
        pipeline, classes, temperature, version, len(texts), SingleTextScorer.of(pipeline)
    )
