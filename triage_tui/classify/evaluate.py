"""Evaluation on `text,category` CSVs: accuracy, macro-F1, confusions, speed."""

from __future__ import annotations

import csv
import statistics
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sklearn.metrics import accuracy_score, f1_score

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
            "worst confusions (true -> predicted: count)",
        ]
        out += [f"  {c['true']} -> {c['predicted']}: {c['count']}" for c in self.worst_confusions]
        if not self.worst_confusions:
            out.append("  none")
        return out


def worst_confusions(truth: list[str], predicted: list[str], top: int = 5) -> list[dict]:
    """The most frequent (true, predicted) pairs that disagree."""
    pairs = Counter((t, p) for t, p in zip(truth, predicted) if t != p)
    return [{"true": t, "predicted": p, "count": n} for (t, p), n in pairs.most_common(top)]


def evaluate(classifier, name: str, train_count: int, test: list[tuple[str, str]]) -> EvalReport:
    """Score a ready classifier on test rows; speed is measured on this machine, now."""
    texts = [t for t, _ in test]
    truth = [c for _, c in test]
    started = time.perf_counter()
    suggestions = classifier.classify_batch(texts)
    elapsed = time.perf_counter() - started
    predicted = [s.category for s in suggestions]
    sure = [(p, t) for s, p, t in zip(suggestions, predicted, truth) if not s.needs_human]
    latencies = []
    for text in texts[:LATENCY_SAMPLE]:
        one = time.perf_counter()
        classifier.classify_text(text)
        latencies.append((time.perf_counter() - one) * 1000)
    latencies.sort()
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
    )
