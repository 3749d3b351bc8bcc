"""The rules classifier: a versioned TOML ruleset of weighted keywords and patterns."""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from triage_tui.classify.labels import ClassifierSetupError, Labels, short_hash
from triage_tui.classify.text import (
    VisibleText,
    collapse,
    hygiene,
    message_text,
    sender_domain,
    visible,
)
from triage_tui.domain import InboundMessage, Suggestion

_FIELDS = ("text", "subject", "body", "sender_domain")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleSpec(_Model):
    """One rule as written in the TOML file."""

    id: str = Field(min_length=1)
    field: str = "text"
    keywords: list[str] = []
    patterns: list[str] = []
    category: str = ""
    urgency: str = ""
    weight: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> "RuleSpec":
        if self.field not in _FIELDS and not self.field.startswith("header:"):
            raise ValueError(f"field must be one of {', '.join(_FIELDS)} or header:<Name>")
        if not self.keywords and not self.patterns:
            raise ValueError("a rule needs keywords or patterns")
        if not self.category and not self.urgency:
            raise ValueError("a rule needs a category or an urgency")
        for pattern in self.patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad pattern {pattern!r}: {exc}") from None
        return self


class UrgencySpec(_Model):
    """Sender domains whose mail is always at least a given urgency."""

    vip_domains: list[str] = []
    vip_urgency: str = "high"


class SettingsSpec(_Model):
    """Scoring knobs."""

    smoothing: float = Field(default=1.0, ge=0)


class CategorySpec(_Model):
    """Example sentences of one category: prototypes for the embed classifier."""

    examples: list[str] = []


class RuleSetSpec(_Model):
    """A whole ruleset file."""

    settings: SettingsSpec = SettingsSpec()
    urgency: UrgencySpec = UrgencySpec()
    categories: dict[str, CategorySpec] = {}
    rules: list[RuleSpec] = []


# The non-ASCII characters that IGNORECASE matches to ASCII letters (see the `re` docs).
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def fold(text: str) -> str:
    """Lower-cased text in which an IGNORECASE match of an ASCII keyword is a plain substring."""
    return text.translate(_FOLD).lower() if not text.isascii() else text.lower()


@dataclass(frozen=True)
class _CompiledRule:
    spec: RuleSpec
    regex: re.Pattern[str]
    # Lower-cased keywords for a substring pre-check (None: not all ASCII, always run the regex);
    # the word-boundary lookbehinds make the regex scan slowly, so most rules skip it.
    keywords: tuple[str, ...] | None
    patterns: re.Pattern[str] | None

    def search(self, value: str, folded: str) -> re.Match[str] | None:
        """The regex's first match; the same answer as `regex.search(value)`."""
        if self.keywords is None or any(k in folded for k in self.keywords):
            return self.regex.search(value)
        return self.patterns.search(value) if self.patterns is not None else None


def _compile(spec: RuleSpec) -> _CompiledRule:
    # Whole words, and not inside an email address or host name ("billing@evil.example").
    parts = [
        r"(?<![\w@])(?<!\w\.)" + re.escape(k.lower()) + r"(?![\w@]|\.\w)" for k in spec.keywords
    ]
    patterns = [f"(?:{p})" for p in spec.patterns]
    keywords = tuple(k.lower() for k in spec.keywords)
    return _CompiledRule(
        spec,
        re.compile("|".join(parts + patterns), re.IGNORECASE),
        keywords if all(k.isascii() for k in keywords) else None,
        re.compile("|".join(patterns), re.IGNORECASE) if patterns else None,
    )


def default_rules_text() -> str:
    """The bundled ruleset's TOML text."""
    return resources.files("triage_tui.classify").joinpath("default_rules.toml").read_text("utf-8")


def load_ruleset(path: str | Path | None = None) -> RuleSetSpec:
    """Parse a ruleset file (or the bundled one); a bad file raises ClassifierSetupError."""
    if path:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ClassifierSetupError(f"{source}: cannot read ruleset: {exc}") from None
    else:
        source, text = "default_rules.toml", default_rules_text()
    return parse_ruleset(text, source=source)


def parse_ruleset(text: str, *, source: str = "<rules>") -> RuleSetSpec:
    """Parse ruleset TOML text into a validated spec."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClassifierSetupError(f"{source}: not valid TOML: {exc}") from None
    try:
        return RuleSetSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ClassifierSetupError(f"{source}: {where}: {first['msg']}") from None


class RulesClassifier:
    """Scores categories by the weighted rules that fire; explains itself by rule id."""

    name = "rules"

    def __init__(self, ruleset: RuleSetSpec, labels: Labels, *, strict: bool = True) -> None:
        """`strict=False` (the bundled ruleset) skips rules naming unconfigured values."""
        self.labels = labels
        self.skipped: list[str] = []
        kept = []
        for spec in ruleset.rules:
            problem = ""
            if spec.category and spec.category not in labels.categories:
                problem = (
                    f"rule {spec.id}: category {spec.category!r} is not one of the configured "
                    f"categories ({', '.join(labels.categories)})"
                )
            elif spec.urgency and spec.urgency not in labels.urgencies:
                problem = f"rule {spec.id}: urgency {spec.urgency!r} is not a configured urgency"
            if problem and strict:
                raise ClassifierSetupError(problem)
            if problem:
                self.skipped.append(spec.id)
            else:
                kept.append(spec)
        vip_urgency = ruleset.urgency.vip_urgency
        if ruleset.urgency.vip_domains and vip_urgency not in labels.urgencies:
            if strict:
                raise ClassifierSetupError(
                    f"urgency.vip_urgency {vip_urgency!r} is not a configured urgency"
                )
            ruleset = ruleset.model_copy(
                update={"urgency": UrgencySpec(vip_domains=[], vip_urgency=vip_urgency)}
            )
        unknown = sorted(set(ruleset.categories) - set(labels.categories))
        if unknown and strict:
            raise ClassifierSetupError(
                f"categories.{unknown[0]}: examples for a category that is not configured "
                f"({', '.join(labels.categories)})"
            )
        categories = {k: v for k, v in ruleset.categories.items() if k in labels.categories}
        ruleset = ruleset.model_copy(update={"rules": kept, "categories": categories})
        self.ruleset = ruleset
        self._rules = [_compile(spec) for spec in kept]
        self._vip = tuple(d.lower().lstrip("@.") for d in ruleset.urgency.vip_domains)
        self._version = "rules-" + short_hash(ruleset.model_dump(mode="json"))
        self._last: tuple[InboundMessage, Suggestion] | None = None

    @property
    def version(self) -> str:
        """'rules-<sha8>' of the ruleset's canonical content."""
        return self._version

    def classify(self, message: InboundMessage) -> Suggestion:
        """Classify a message on its visible subject, body, sender domain and headers."""
        last = self._last
        if last is not None and last[0] is message:  # asked again in one chain run (urgency_of)
            return last[1]
        suggestion = self._classify(message)
        self._last = (message, suggestion)
        return suggestion

    def _classify(self, message: InboundMessage) -> Suggestion:
        return self._score(self._fields(message), message, message_text(message).hidden)

    def _fields(self, message: InboundMessage) -> dict[str, str]:
        return {
            "text": message_text(message).text,
            "subject": collapse(visible(message.subject).text),
            "body": collapse(visible(message.body_text or message.snippet).text),
            "sender_domain": sender_domain(message),
        }

    def classify_text(self, text: str) -> Suggestion:
        """Classify bare text (no headers, no sender)."""
        seen = visible(text)
        plain = collapse(seen.text)
        return self._score({"text": plain, "body": plain, "subject": ""}, None, seen.hidden)

    def classify_batch(self, texts: list[str]) -> list[Suggestion]:
        """Classify many bare texts."""
        return [self.classify_text(text) for text in texts]

    def urgency_of(self, message: InboundMessage) -> tuple[str, list[str]]:
        """Only the urgency part: (urgency, reasons), for classifiers that judge category only."""
        suggestion = self.classify(message)
        reasons = [r for r in suggestion.reasons if r.startswith(("urgency", "VIP"))]
        return suggestion.urgency, reasons

    def _field_value(
        self, name: str, fields: dict[str, str], message: InboundMessage | None
    ) -> str:
        if name.startswith("header:"):
            if message is None:
                return ""
            values = message.header_values(name.split(":", 1)[1].strip())
            return collapse(visible(" ".join(values)).text)
        return fields.get(name, "")

    def describe(self) -> str:
        """The ruleset in a few words."""
        return f"{len(self._rules)} rules, {self._version}"

    @property
    def examples(self) -> dict[str, list[str]]:
        """category -> example sentences from the ruleset (configured categories only)."""
        return {k: list(v.examples) for k, v in self.ruleset.categories.items() if v.examples}

    def category_scores(self, message: InboundMessage | None, text: str = "") -> dict[str, float]:
        """The summed weights of the category rules that fire (a message, or bare text)."""
        if message is not None:
            return dict(self._scores(self._fields(message), message)[0])
        plain = collapse(visible(text).text)
        return dict(self._scores({"text": plain, "body": plain, "subject": ""}, None)[0])

    def _scores(
        self, fields: dict[str, str], message: InboundMessage | None
    ) -> tuple[dict[str, float], list[str], list[str]]:
        scores: dict[str, float] = defaultdict(float)
        reasons: list[str] = []
        urgencies: list[str] = []
        folded: dict[str, tuple[str, str]] = {}
        for rule in self._rules:
            field = rule.spec.field
            if field not in folded:
                value = self._field_value(field, fields, message)
                folded[field] = (value, fold(value))
            value, lowered = folded[field]
            found = rule.search(value, lowered) if value else None
            if found is None:
                continue
            spec = rule.spec
            quoted = found.group(0)[:40]
            if spec.category:
                scores[spec.category] += spec.weight
                reasons.append(
                    f"rule {spec.id} matched {quoted!r} in {spec.field} "
                    f"(+{spec.weight:g} {spec.category})"
                )
            if spec.urgency:
                urgencies.append(spec.urgency)
                reasons.append(f"urgency rule {spec.id} matched {quoted!r} -> {spec.urgency}")
        return scores, reasons, urgencies

    def _score(
        self, fields: dict[str, str], message: InboundMessage | None, hidden: tuple[str, ...]
    ) -> Suggestion:
        scores, reasons, urgencies = self._scores(fields, message)
        domain = fields.get("sender_domain", "")
        if domain and any(domain == d or domain.endswith("." + d) for d in self._vip):
            urgencies.append(self.ruleset.urgency.vip_urgency)
            reasons.append(f"VIP sender domain {domain} -> {self.ruleset.urgency.vip_urgency}")
        urgency = self.labels.most_urgent(*urgencies)
        warnings, unsure_hidden = hygiene(VisibleText(fields.get("text", ""), hidden))
        reasons += warnings
        if not scores:
            return self.labels.suggestion(
                self.labels.fallback_category, urgency, 0.0,
                ["no category rule fired; needs a human", *reasons], self._version, unsure=True,
            )
        order = self.labels.categories.index
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], order(kv[0])))
        best, top = ranked[0]
        confidence = top / (sum(scores.values()) + self.ruleset.settings.smoothing)
        return self.labels.suggestion(
            best, urgency, confidence, reasons, self._version, unsure=unsure_hidden
        )
