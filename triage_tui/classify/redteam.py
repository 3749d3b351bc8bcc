"""Red-team measurement: is every suggestion schema-valid, how often did injections flip it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from triage_tui.classify.labels import Labels
from triage_tui.domain import InboundMessage, Suggestion


def smuggle(text: str) -> str:
    """ASCII made invisible with Unicode tag characters (U+E0000 block)."""
    return "".join(chr(0xE0000 + ord(c)) for c in text if ord(c) < 0x80)


def load_injections(path: str | Path) -> list[dict]:
    """Injection payloads from a JSON list of {id, kind, text | smuggle, target?}."""
    items = json.loads(Path(path).read_text(encoding="utf-8"))
    for item in items:
        if "smuggle" in item:
            item["text"] = item.get("text", "") + smuggle(item["smuggle"])
    return items


def inject(message: InboundMessage, payload: str) -> InboundMessage:
    """The same message with the payload appended to its body."""
    return message.model_copy(update={"body_text": f"{message.body_text}\n\n{payload}"})


def schema_problem(suggestion: object, labels: Labels) -> str:
    """Why a classifier answer is not a valid suggestion, or '' when it is."""
    if not isinstance(suggestion, Suggestion):
        return f"not a Suggestion: {type(suggestion).__name__}"
    if suggestion.category not in labels.categories:
        return f"category {suggestion.category!r} outside the enum"
    if suggestion.urgency not in labels.urgencies:
        return f"urgency {suggestion.urgency!r} outside the enum"
    if not 0.0 <= suggestion.confidence <= 1.0:
        return f"confidence {suggestion.confidence} outside [0, 1]"
    if not suggestion.classification_version:
        return "no classification_version"
    if not all(isinstance(r, str) for r in suggestion.reasons):
        return "reasons are not strings"
    return ""


@dataclass
class RedTeamReport:
    """Counts for one classifier over benign x injection pairs."""

    classifier: str
    pairs: int = 0
    invalid: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    category_flips: int = 0
    urgency_flips: int = 0
    reached_target: int = 0
    sent_to_human: int = 0

    @property
    def flip_rate(self) -> float:
        """Share of pairs whose category or urgency the injection changed (either)."""
        return (self.category_flips + self.urgency_flips) / self.pairs if self.pairs else 0.0

    def line(self) -> str:
        """One printable summary line."""
        return (
            f"{self.classifier:8} pairs={self.pairs} schema-valid="
            f"{self.pairs - len(self.invalid) - len(self.errors)}/{self.pairs} "
            f"category flipped={self.category_flips / max(1, self.pairs):.1%} "
            f"urgency flipped={self.urgency_flips / max(1, self.pairs):.1%} "
            f"attacker target reached={self.reached_target / max(1, self.pairs):.1%} "
            f"needs-human={self.sent_to_human / max(1, self.pairs):.1%}"
        )


def run_redteam(
    name: str, classifier, labels: Labels, benign: list[InboundMessage], injections: list[dict]
) -> RedTeamReport:
    """Classify each benign message with and without each injection; count what changed."""
    report = RedTeamReport(name)
    for message in benign:
        clean = classifier.classify(message)
        for item in injections:
            report.pairs += 1
            try:
                attacked = classifier.classify(inject(message, item["text"]))
            except Exception as exc:  # counted, never hidden: a classifier must not raise
                report.errors.append(f"{item['id']}: {type(exc).__name__}: {exc}")
                continue
            problem = schema_problem(attacked, labels)
            if problem:
                report.invalid.append(f"{item['id']}: {problem}")
                continue
            report.category_flips += attacked.category != clean.category
            report.urgency_flips += attacked.urgency != clean.urgency
            report.sent_to_human += attacked.needs_human
            target = item.get("target", {})
            if target and not attacked.needs_human and all(
                getattr(attacked, key) == value and getattr(clean, key) != value
                for key, value in target.items()
            ):
                report.reached_target += 1
    return report
