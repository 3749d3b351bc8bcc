"""Evaluation on `text,category` CSVs: accuracy, macro-F1, confusions, speed."""

from __future__ import annotations

import csv
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sklearn.metrics import accuracy_score, f1_score

from triage_tui.classify import risk
from triage_tui.classify.labels import ClassifierSetupError

LATENCY_SAMPLE = 300


def load_csv(path: str | Path) -> list[tuple[str, str]]:
    """Read a `text,category` CSV (header required); a bad file raises ClassifierSetupError."""
    source = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip().lower() for c in (reader.fieldnames or [])]
            if "text" not in columns or "category" not in columns:
                raise ClassifierSetupError(
                    f"{source}: needs a header with 'text' and 'category' columns "
                    f"(found {', '.join(reader.fieldnames or []) or 'nothing'})"
                )
            reader.fieldnames = columns
            rows: list[tuple[str, str]] = []
            for line, row in enumerate(reader, start=2):
                text = (row.get("text") or "").strip()
                category = (row.get("category") or "").strip()
                if not text or not category:
                    raise ClassifierSetupError(f"{source}:{line}: empty text or category")
                rows.append((text, category))
    except FileNotFoundError:
        raise ClassifierSetupError(f"{source}: file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ClassifierSetupError(f"{source}: cannot read CSV: {exc}") from None
    if not rows:
        raise ClassifierSetupError(f"{source}: no rows")
    return rows


@dataclass
class EvalReport:
    """What `classify eval` prints."""

    classifier: str
    version: str
    train_examples: int
    test_examples: int
    accuracy: float
    macro_f1: float
    needs_human_rate: float
    accuracy_when_sure: float | None
    worst_confusions: list[dict] = field(default_factory=list)
    batch_msgs_per_s: float = 0.0
    p50_latency_ms: float = 0.0
    p95_latency_ms: float = 0.0
    accuracy_at_90_coverage: float = 0.0
    risk_coverage: list[dict] = field(default_factory=list)
    train_seconds: float = 0.0
    few_shot: dict = field(default_factory=dict)
    install_added: str = ""

    def as_dict(self) -> dict:
        """A JSON-friendly dict."""
        return asdict(self)

    def lines(self) -> list[str]:
        """Human-readable report lines."""
        sure = "n/a" if self.accuracy_when_sure is None else f"{self.accuracy_when_sure:.2%}"
        out = [
            f"classifier      {self.classifier} ({self.version})",
            f"examples        train {self.train_examples}, test {self.test_examples}",
            f"accuracy        {self.accuracy:.2%}",
            f"macro-F1        {self.macro_f1:.4f}",
            f"needs human     {self.needs_human_rate:.1%} (accuracy on the rest: {sure})",
            f"throughput      {self.batch_msgs_per_s:,.0f} msgs/s in batch",
            f"latency         p50 {self.p50_latency_ms:.2f} ms, p95 {self.p95_latency_ms:.2f} ms"
            " per single message",
            f"training        {self.train_seconds:.1f} s",
        ]
        if self.few_shot:
            runs = ", ".join(f"{a:.2%}" for a in self.few_shot["accuracies"])
            out.append(f"{self.few_shot['per_class']}-shot         mean {self.few_shot['mean']:.2%} "
                       f"over seeds {self.few_shot['seeds']} ({runs})")
        if self.install_added:
            out.append(f"install added   {self.install_added}")
        out.append(f"at 90% coverage {self.accuracy_at_90_coverage:.2%} accurate")
        out.append("risk-coverage   (answered without a human -> accuracy on those; threshold)")
        out += [f"  {p['coverage']:6.1%} -> {p['accuracy']:.2%}  (confidence >= {p['threshold']:.2f})"
                for p in self.risk_coverage]
        out.append("worst confusions (true -> predicted: count)")
        out += [f"  {c['true']} -> {c['predicted']}: {c['count']}" for c in self.worst_confusions]
        if not self.worst_confusions:
            out.append("  none")
        return out


def worst_confusions(truth: list[str], predicted: list[str], top: int = 5) -> list[dict]:
    """The most frequent (true, predicted) pairs that disagree."""
    pairs = Counter((t, p) for t, p in zip(truth, predicted) if t != p)
    return [{"true": t, "predicted": p, "count": n} for (t, p), n in pairs.most_common(top)]


def few_shot_rows(train: list[tuple[str, str]], per_class: int, seed: int) -> list[tuple[str, str]]:
    """`per_class` rows of each category (all of a smaller one), sampled with a fixed seed."""
    rng = random.Random(seed)
    by_class: dict[str, list[tuple[str, str]]] = {}
    for row in train:
        by_class.setdefault(row[1], []).append(row)
    sample: list[tuple[str, str]] = []
    for category in sorted(by_class):
        rows = by_class[category]
        sample += rng.sample(rows, min(per_class, len(rows)))
    return sample


def few_shot(make: Callable[[list[tuple[str, str]]], object], train: list[tuple[str, str]],
             test: list[tuple[str, str]], per_class: int, seeds=(0, 1, 2)) -> dict:
    """Test accuracy of classifiers trained (by `make`) on `per_class` rows per category."""
    truth = [c for _, c in test]
    accuracies = []
    for seed in seeds:
        classifier = make(few_shot_rows(train, per_class, seed))
        predicted = [s.category for s in classifier.classify_batch([t for t, _ in test])]
        accuracies.append(float(accuracy_score(truth, predicted)))
    return {"per_class": per_class, "seeds": list(seeds), "accuracies": accuracies,
            "mean": statistics.mean(accuracies)}


def evaluate(classifier, name: str, train_count: int, test: list[tuple[str, str]]) -> EvalReport:
    """Score a ready classifier on test rows; speed is measured on this machine, now."""
    texts = [t for t, _ in test]
    truth = [c for _, c in test]
    forget = getattr(classifier, "forget_embeddings", lambda: None)  # time the encoder too
    forget()
    started = time.perf_counter()
    suggestions = classifier.classify_batch(texts)
    elapsed = time.perf_counter() - started
    predicted = [s.category for s in suggestions]
    sure = [(p, t) for s, p, t in zip(suggestions, predicted, truth) if not s.needs_human]
    forget()
    latencies = []
    for text in texts[:LATENCY_SAMPLE]:
        one = time.perf_counter()
        classifier.classify_text(text)
        latencies.append((time.perf_counter() - one) * 1000)
    latencies.sort()
    confidence = [s.confidence for s in suggestions]
    correct = [p == t for p, t in zip(predicted, truth)]
    curve = risk.curve(confidence, correct)
    return EvalReport(
        classifier=name,
        version=classifier.version,
        train_examples=train_count,
        test_examples=len(test),
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(f1_score(truth, predicted, average="macro", zero_division=0)),
        needs_human_rate=1 - len(sure) / len(test),
        accuracy_when_sure=(sum(p == t for p, t in sure) / len(sure)) if sure else None,
        worst_confusions=worst_confusions(truth, predicted),
        batch_msgs_per_s=len(texts) / elapsed if elapsed > 0 else float("inf"),
        p50_latency_ms=statistics.median(latencies),
        p95_latency_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))],
        accuracy_at_90_coverage=risk.accuracy_at_coverage(confidence, correct, 0.9),
        risk_coverage=[asdict(p) for p in curve],
    )
