"""Risk against coverage: how right a classifier is on what it does not send to a human.

Coverage is the share of messages answered without a human; accuracy is measured on those
only. Raising the confidence threshold lowers coverage and (for a calibrated model) raises
accuracy; these helpers read the trade-off off held-out predictions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RiskPoint:
    """One threshold on the curve."""

    threshold: float
    coverage: float
    accuracy: float


def _ranked(confidence, correct) -> tuple[np.ndarray, np.ndarray]:
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    order = np.argsort(-confidence, kind="stable")
    return confidence[order], correct[order]


def accuracy_at_coverage(confidence, correct, coverage: float) -> float:
    """Accuracy on the most confident `coverage` share of the answers."""
    ranked_conf, ranked_ok = _ranked(confidence, correct)
    if not len(ranked_ok):
        return float("nan")
    keep = max(1, math.ceil(coverage * len(ranked_ok)))
    return float(ranked_ok[:keep].mean())


def point(confidence, correct, threshold: float) -> RiskPoint:
    """Coverage and accuracy when everything below `threshold` goes to a human."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    kept = confidence >= threshold
    accuracy = float(correct[kept].mean()) if kept.any() else float("nan")
    return RiskPoint(threshold, float(kept.mean()) if len(kept) else 0.0, accuracy)


def curve(confidence, correct, coverages=(1.0, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5)) -> list[RiskPoint]:
    """The threshold, coverage and accuracy at each requested coverage."""
    ranked_conf, ranked_ok = _ranked(confidence, correct)
    points = []
    for share in coverages:
        keep = max(1, math.ceil(share * len(ranked_ok)))
        points.append(RiskPoint(float(ranked_conf[keep - 1]), keep / len(ranked_ok),
                                float(ranked_ok[:keep].mean())))
    return points


def wilson_lower(accuracy: np.ndarray, count: np.ndarray, z: float) -> np.ndarray:
    """The Wilson score interval's lower end for an observed accuracy over `count` answers."""
    z2 = z * z
    centre = accuracy + z2 / (2 * count)
    spread = z * np.sqrt(accuracy * (1 - accuracy) / count + z2 / (4 * count * count))
    return (centre - spread) / (1 + z2 / count)


def threshold_for(confidence, correct, target_accuracy: float, *, z: float = 0.0) -> float | None:
    """The lowest threshold whose answers above it reach `target_accuracy` (None: never).

    With `z` > 0 the accuracy must be reached by the Wilson lower bound (z=1.645: 95 % one-
    sided), so a threshold read off a few thousand held-out answers holds on new ones too.
    """
    ranked_conf, ranked_ok = _ranked(confidence, correct)
    if not len(ranked_ok):
        return None
    count = np.arange(1, len(ranked_ok) + 1)
    running = np.cumsum(ranked_ok) / count
    if z > 0:
        running = wilson_lower(running, count, z)
    # Only cut between distinct confidences: a threshold keeps every tie.
    distinct = np.append(ranked_conf[1:] < ranked_conf[:-1], True)
    good = np.flatnonzero((running >= target_accuracy) & distinct)
    if not len(good):
        return None
    return float(ranked_conf[good[-1]])
