"""The embed half of the BANKING77 benchmark: CV on train only, test figures, few-shot, speed."""

from __future__ import annotations

import os
import statistics
import time

import numpy as np
from scipy import sparse
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from benchmarks._naive_encoder import NaiveEncoder
from triage_tui.classify import risk
from triage_tui.classify.embed import EmbedClassifier, EmbeddingCache, shared_cache
from triage_tui.classify.embed_model import EmbedParams, _place, fit_embedding_model, linear_values
from triage_tui.classify.evaluate import few_shot_rows
from triage_tui.classify.labels import Labels, short_hash
from triage_tui.classify.model import build_features, fit_temperature, softmax

WEIGHTS = (2.0, 3.0)
C_VALUES = (0.5, 1.0)
EMBEDDING_C = (10.0, 30.0, 100.0)
TARGET = 0.98
BATCH_SAMPLE = 1000


def load() -> str:
    """The 1-minute load average, to judge timings on a shared box."""
    return f"{os.getloadavg()[0]:.2f}"


def cross_validate(texts, labels, embeddings, folds=3, seed=0) -> dict[EmbedParams, float]:
    """Out-of-fold accuracy of every grid point: "joint" (embedding weight x C) and "average"
    (each joint point with the embedding-only logistic regression at each C); the TF-IDF is
    fitted once per fold and each member's temperature on its own out-of-fold answers."""
    y = np.array(labels)
    classes = tuple(sorted(set(labels)))
    truth = np.array([classes.index(c) for c in labels])
    joint_values = {(w, c): np.zeros((len(texts), len(classes))) for w in WEIGHTS for c in C_VALUES}
    second_values = {c: np.zeros((len(texts), len(classes))) for c in EMBEDDING_C}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, val_idx in splitter.split(texts, y):
        features = build_features(EmbedParams().tfidf)
        x_train = features.fit_transform([texts[i] for i in train_idx])
        x_val = features.transform([texts[i] for i in val_idx])
        for weight in WEIGHTS:
            a = sparse.hstack([x_train, sparse.csr_matrix(embeddings[train_idx] * weight)], "csr")
            b = sparse.hstack([x_val, sparse.csr_matrix(embeddings[val_idx] * weight)], "csr")
            for c in C_VALUES:
                model = LinearSVC(C=c).fit(a, y[train_idx])
                _place(joint_values[weight, c], val_idx, model.decision_function(b),
                       [classes.index(k) for k in model.classes_])
        for c in EMBEDDING_C:
            model = fit_embedding_model(embeddings[train_idx], y[train_idx], c)
            _place(second_values[c], val_idx, linear_values(model.coef_, model.intercept_, embeddings[val_idx]),
                   [classes.index(k) for k in model.classes_])
    joint_probs = {k: softmax(v, fit_temperature(v, truth)) for k, v in joint_values.items()}
    second_probs = {k: softmax(v, fit_temperature(v, truth)) for k, v in second_values.items()}
    scores = {}
    for (w, c), probs in joint_probs.items():
        scores[EmbedParams(kind="joint", embedding_weight=w, C=c)] = float(np.mean(probs.argmax(1) == truth))
        for ec, other in second_probs.items():
            params = EmbedParams(kind="average", embedding_weight=w, C=c, embedding_C=ec)
            scores[params] = float(np.mean((probs + other).argmax(1) == truth))
    return scores


def describe(params: EmbedParams) -> str:
    """The grid point in a few words."""
    text = f"{params.kind:7} weight {params.embedding_weight:g} C={params.C:g}"
    return text + (f" + embedding LR C={params.embedding_C:g}" if params.kind == "average" else "")


def choose(train, encoder, log=print) -> tuple[EmbedParams, dict]:
    """The grid point with the best 3-fold CV accuracy on these training rows (ties: the first)."""
    texts, labels = [t for t, _ in train], [c for _, c in train]
    scores = cross_validate(texts, labels, shared_cache(encoder)(texts))
    params = max(scores, key=scores.get)
    log(scores, params)
    return params, scores


def make(train, encoder, params: EmbedParams) -> tuple[EmbedClassifier, float]:
    """Train an embed classifier on the rows (calibrated, threshold out of fold); seconds taken."""
    labels = Labels(tuple(sorted({c for _, c in train})), ("low", "normal", "high", "critical"), 0.0)
    classifier = EmbedClassifier(labels, encoder, min_training_examples=2, params=params,
                                 target_accuracy=TARGET)
    started = time.perf_counter()
    classifier.train(train)
    return classifier, time.perf_counter() - started


def report(classifier, test, label: str) -> dict:
    """Accuracy, macro-F1, risk-coverage; batch and single-message speed with the encoder cold."""
    texts, truth = [t for t, _ in test], [c for _, c in test]
    suggestions = classifier.classify_batch(texts)
    warm = classifier.embed
    classifier.embed = EmbeddingCache(warm.encoder)  # empty: every text pays for the encoder
    sample = texts[:BATCH_SAMPLE]
    started, cpu = time.perf_counter(), time.process_time()
    classifier.classify_batch(sample)
    batch_s, batch_cpu = time.perf_counter() - started, time.process_time() - cpu
    naive = NaiveEncoder(warm.encoder.model_dir, warm.encoder._tokenizer)
    check = texts[-20:]
    gap = np.abs(np.vstack([naive.encode_one(t) for t in check]) - warm.encoder.encode(check)).max()
    latencies, cpu_ms, naive_ms, naive_cpu_ms = [], [], [], []
    for text in texts[BATCH_SAMPLE:BATCH_SAMPLE + 300]:  # the baseline interleaved, same load
        started, cpu = time.perf_counter(), time.thread_time()
        naive.encode_one(text)
        naive_ms.append((time.perf_counter() - started) * 1000)
        naive_cpu_ms.append((time.thread_time() - cpu) * 1000)
        started, cpu = time.perf_counter(), time.thread_time()
        classifier.classify_text(text)
        latencies.append((time.perf_counter() - started) * 1000)
        cpu_ms.append((time.thread_time() - cpu) * 1000)
    alone = []  # the same path with nothing in between: the encoder's weights stay in the CPU caches
    for text in texts[BATCH_SAMPLE + 300:BATCH_SAMPLE + 600]:
        started = time.perf_counter()
        classifier.classify_text(text)
        alone.append((time.perf_counter() - started) * 1000)
    classifier.embed = warm
    latencies.sort()
    alone.sort()
    cores = os.cpu_count() or 1
    speed = {"naive_p50_ms": statistics.median(naive_ms), "cpu_p50_ms": statistics.median(cpu_ms),
             "naive_cpu_p50_ms": statistics.median(naive_cpu_ms),
             "cpu_msgs_per_s": len(sample) / batch_cpu * cores,
             "naive_msgs_per_s": 1000 / statistics.mean(naive_ms), "baseline_gap": float(gap)}
    predicted = [s.category for s in suggestions]
    confidence = np.array([s.confidence for s in suggestions])
    correct = np.array(predicted) == np.array(truth)
    threshold = classifier._model.threshold
    at = risk.point(confidence, correct, threshold if threshold is not None else 0.0)
    out = {
        "label": label, "accuracy": float(correct.mean()),
        "macro_f1": float(f1_score(truth, predicted, average="macro")),
        "at_90": risk.accuracy_at_coverage(confidence, correct, 0.9),
        "threshold": threshold, "threshold_coverage": at.coverage, "threshold_accuracy": at.accuracy,
        "msgs_per_s": len(sample) / batch_s, "p50_ms": statistics.median(latencies),
        "p95_ms": latencies[int(len(latencies) * 0.95)],
        "alone_p50_ms": statistics.median(alone), "alone_p95_ms": alone[int(len(alone) * 0.95)],
        "curve": risk.curve(confidence, correct), **speed,
    }
    print(f"  {label:34} acc {out['accuracy']:.2%}  macro-F1 {out['macro_f1']:.4f}  "
          f"batch {out['msgs_per_s']:,.0f} msg/s ({len(sample)} texts)  p50 {out['p50_ms']:.2f} ms  "
          f"p95 {out['p95_ms']:.2f} ms  (encoder included; load {load()})")
    print(f"  {'':34} single message p50 {out['alone_p50_ms']:.2f} ms p95 {out['alone_p95_ms']:.2f} ms one after "
          f"another; the p50 above alternates with the baseline, which evicts the weights from the caches")
    print(f"  {'':34} baseline in the same run, interleaved (textbook numpy pass, encoder only): "
          f"p50 {speed['naive_p50_ms']:.2f} ms -> embed classifier {speed['naive_p50_ms'] / out['p50_ms']:.2f}x "
          f"faster; CPU time per message p50 {speed['cpu_p50_ms']:.2f} ms (baseline "
          f"{speed['naive_cpu_p50_ms']:.2f} ms); batch {out['msgs_per_s'] / speed['naive_msgs_per_s']:.2f}x "
          f"the baseline's {speed['naive_msgs_per_s']:,.0f} msg/s one at a time; batch at {cores} cores' CPU time "
          f"{speed['cpu_msgs_per_s']:,.0f} msg/s (what an idle machine would give); baseline and encoder "
          f"agree to {gap:.1e}")
    print(f"  {'':34} accuracy at 90% coverage {out['at_90']:.2%}; default threshold "
          f"{threshold if threshold is not None else float('nan'):.3f} (fitted out of fold for "
          f"{TARGET:.0%}): coverage {at.coverage:.1%}, accuracy {at.accuracy:.2%}")
    print("  " + " ".join(f"[{p.coverage:.0%}: {p.accuracy:.2%} @{p.threshold:.2f}]" for p in out["curve"]))
    return out


def load_vectors(path: str, cache: EmbeddingCache, texts: list[str], tag: str) -> float:
    """Embed `texts` into the cache (from an .npz of an earlier run when it matches); seconds."""
    key = short_hash([tag, texts])
    if path and os.path.exists(path):
        saved = np.load(path)
        if str(saved["key"]) == key:
            for text, row in zip(texts, saved["vectors"]):
                cache._rows[text] = row
            print(f"  embeddings of {len(texts)} texts read from {path} (timing from that run: "
                  f"{float(saved['seconds']):.1f} s)")
            return float(saved["seconds"])
    started = time.perf_counter()
    vectors = cache(texts)
    seconds = time.perf_counter() - started
    if path:
        np.savez(path, key=key, vectors=vectors, seconds=seconds)
    return seconds


def run(train, test, encoder, *, seeds=(0, 1, 2), skip_cv=False, vectors_path: str = "") -> dict:
    """Everything the summary needs for the embed classifier."""
    cache = shared_cache(encoder)
    texts = list(dict.fromkeys([t for t, _ in train] + [t for t, _ in test]))
    print(f"\n[E1] embedding train + test once (load {load()})")
    embed_s = load_vectors(vectors_path, cache, texts, f"{encoder.max_tokens}")
    rate = len(texts) / embed_s
    print(f"  {len(texts)} distinct texts in {embed_s:.1f} s ({rate:,.0f}/s batched)")
    if skip_cv:
        params = EmbedParams()
        print(f"\n[E2] CV skipped: the shipped EmbedParams ({describe(params)})")
    else:
        print("\n[E2] 3-fold CV on train.csv only: joint (embedding weight x C) and average "
              "(joint + embedding-only LR)")
        params, scores = choose(train, encoder, log=lambda *a: None)
        for point, score in sorted(scores.items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {describe(point):48} cv acc {score:.2%}")
        print(f"  chosen: {describe(params)} (the shipped default is kind auto: joint or average "
              "by the same out-of-fold accuracy at every training)")
    print("\n[E3] chosen embed model on test.csv (calibrated; threshold fitted out of fold)")
    classifier, fit_s = make(train, encoder, params)
    train_s = fit_s + len(train) / rate
    print(f"  trained in {train_s:.1f} s: fit {fit_s:.1f} s + embedding {len(train)} texts "
          f"{len(train) / rate:.1f} s at the E1 rate; {classifier._model.kind}, temperature "
          f"{classifier._model.temperature:.3f}")
    full = report(classifier, test, "embed chosen")
    full["train_s"] = train_s
    print(f"\n[E4] 10 examples per intent, seeds {list(seeds)}; kind, weight and C chosen by 3-fold "
          "CV on each 770")
    accuracies, shipped = [], []
    truth = np.array([c for _, c in test])
    for seed in seeds:
        small = few_shot_rows(train, 10, seed)
        few_params, _ = choose(small, encoder, log=lambda *a: None)
        few, _ = make(small, encoder, few_params)
        accuracies.append(float(np.mean(np.array(few.predict([t for t, _ in test])) == truth)))
        default, _ = make(small, encoder, EmbedParams())
        shipped.append(float(np.mean(np.array(default.predict([t for t, _ in test])) == truth)))
        print(f"  seed {seed}: {describe(few_params)} -> {accuracies[-1]:.2%}; the shipped default "
              f"(auto -> {default._model.kind}) {shipped[-1]:.2%}")
    print(f"  mean {statistics.mean(accuracies):.2%} (CV-chosen), {statistics.mean(shipped):.2%} "
          "(shipped default)")
    full["few_shot"] = accuracies
    full["few_shot_default"] = shipped
    return full
