"""The allowed categories and urgencies, and the suggestions every classifier builds from them."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from triage_tui.domain import Suggestion


class ClassifierSetupError(Exception):
    """A classifier that cannot be built: bad ruleset, bad chain, bad training file."""


def short_hash(content: Any) -> str:
    """The first 8 hex digits of the sha256 of a canonical JSON rendering."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True)
class Labels:
    """The enums a classifier may answer with; nothing outside them ever leaves a classifier."""

    categories: tuple[str, ...]
    urgencies: tuple[str, ...]
    min_confidence: float = 0.55

    def __post_init__(self) -> None:
        if not self.categories or not self.urgencies:
            raise ClassifierSetupError("categories and urgencies must not be empty")
        if len(set(self.categories)) != len(self.categories):
            raise ClassifierSetupError("categories must be unique")
        if len(set(self.urgencies)) != len(self.urgencies):
            raise ClassifierSetupError("urgencies must be unique")

    @property
    def fallback_category(self) -> str:
        """The category an unsure suggestion carries: 'other' when configured, else the last."""
        return "other" if "other" in self.categories else self.categories[-1]

    @property
    def default_urgency(self) -> str:
        """'normal' when configured, else the lowest urgency."""
        return "normal" if "normal" in self.urgencies else self.urgencies[0]

    def rank(self, urgency: str) -> int:
        """Position of an urgency in the configured order (higher is more urgent)."""
        return self.urgencies.index(urgency)

    def most_urgent(self, *urgencies: str) -> str:
        """The most urgent of the given (valid) urgencies, or the default."""
        valid = [u for u in urgencies if u in self.urgencies]
        return max(valid, key=self.rank) if valid else self.default_urgency

    def suggestion(
        self,
        category: str,
        urgency: str,
        confidence: float,
        reasons: list[str],
        version: str,
        *,
        unsure: bool = False,
    ) -> Suggestion:
        """A schema-valid suggestion: anything outside the enums becomes 'needs human'."""
        reasons = list(reasons)
        if category not in self.categories:
            reasons.append("category outside the configured set; needs a human")
            category, unsure = self.fallback_category, True
        if urgency not in self.urgencies:
            urgency = self.default_urgency
        confidence = float(confidence)
        if not math.isfinite(confidence):
            confidence, unsure = 0.0, True
        confidence = min(1.0, max(0.0, confidence))
        needs_human = unsure or confidence < self.min_confidence
        if needs_human and not unsure:
            reasons.append(
                f"confidence {confidence:.2f} below {self.min_confidence:.2f}; needs a human"
            )
        return Suggestion(
            category=category,
            urgency=urgency,
            confidence=confidence,
            reasons=reasons,
            classification_version=version,
            needs_human=needs_human,
        )

    def unsure(self, reason: str, version: str, *, urgency: str = "") -> Suggestion:
        """A 'needs human' suggestion with no category opinion."""
        return self.suggestion(
            self.fallback_category, urgency or self.default_urgency, 0.0, [reason], version,
            unsure=True,
        )
