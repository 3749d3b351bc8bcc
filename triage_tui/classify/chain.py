"""The configured chain of classifiers, and the factory that builds it from config."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from triage_tui.classify.base import Classifier
from triage_tui.classify.labels import ClassifierSetupError, Labels, short_hash
from triage_tui.classify.rules import RulesClassifier, load_ruleset
from triage_tui.config import ClassifierConfig
from triage_tui.domain import InboundMessage, Suggestion

log = logging.getLogger(__name__)

# Members that cost milliseconds per message (a neural encoder): not run on ingest's path.
SLOW_MEMBERS = frozenset({"embed"})


class ChainClassifier:
    """Asks each classifier in order; the first sure answer decides and lends its version."""

    name = "chain"

    def __init__(self, classifiers: Sequence[Classifier], labels: Labels,
                 notes: Sequence[str] = ()) -> None:
        if not classifiers:
            raise ClassifierSetupError("classifier.chain is empty")
        self.classifiers = list(classifiers)
        self.labels = labels
        self.notes = list(notes)
        self.warnings: list[str] = []  # fallbacks the user should hear about

    def describe(self) -> str:
        """Which classifiers answer, in order, and why any fell back: one line."""
        parts = []
        for classifier in self.classifiers:
            inner = getattr(classifier, "learned", classifier)
            detail = inner.describe() if hasattr(inner, "describe") else ""
            parts.append(f"{classifier.name} ({detail})" if detail else classifier.name)
        line = " -> ".join(parts)
        return line + "".join(f"; {note}" for note in self.notes)

    def quick(self) -> "ChainClassifier | None":
        """The chain without its slow members (embed), to suggest at ingest; None if nothing differs.

        Ingest stores the quick chain's answer as provisional and the worker upgrades it with the
        whole chain when the inbox is caught up, so a storm is stored at the quick chain's pace.
        """
        members = [c for c in self.classifiers if c.name not in SLOW_MEMBERS]
        if not members or len(members) == len(self.classifiers):
            return None
        return ChainClassifier(members, self.labels, self.notes)

    def prepare_batch(self, messages: list[InboundMessage]) -> None:
        """Let members that batch (the embed classifier) do their work for many messages at once."""
        for classifier in self.classifiers:
            prepare = getattr(classifier, "prepare_batch", None)
            if prepare is not None:
                prepare(messages)

    @property
    def version(self) -> str:
        """'chain-<sha8>' of the member versions (each suggestion names its own decider)."""
        return "chain-" + short_hash([c.version for c in self.classifiers])

    def classify(self, message: InboundMessage) -> Suggestion:
        """The first suggestion that does not need a human, else the most confident unsure one."""
        return self._run(lambda c: c.classify(message))

    def classify_text(self, text: str) -> Suggestion:
        """Classify bare text through the chain."""
        return self._run(lambda c: c.classify_text(text))

    def classify_batch(self, texts: list[str]) -> list[Suggestion]:
        """Classify many bare texts."""
        return [self.classify_text(t) for t in texts]

    def train(self, examples: Iterable[tuple[str, str]], *, background: bool = False) -> None:
        """Retrain every learning member on the store's approved (text, category) examples.

        `background=True` returns at once; classification keeps using the old model until the
        new one is swapped in (RetrainingClassifier.wait() blocks until then).
        """
        examples = list(examples)
        for classifier in self.classifiers:
            if not hasattr(classifier, "train"):
                continue
            if background:
                classifier.train(examples, background=True)
            else:
                classifier.train(examples)

    def add_label(self, text: str, category: str) -> None:
        """Feed one approved decision to every learning member (they retrain in background)."""
        for classifier in self.classifiers:
            if hasattr(classifier, "add_label"):
                classifier.add_label(text, category)

    def _run(self, ask) -> Suggestion:
        unsure: list[tuple[str, Suggestion]] = []
        for classifier in self.classifiers:
            try:
                suggestion = ask(classifier)
            except Exception as exc:  # one broken member must not stop the others
                log.exception("classifier %s failed", classifier.name)
                suggestion = self.labels.unsure(
                    f"{classifier.name} failed ({type(exc).__name__})", classifier.version
                )
            if not suggestion.needs_human:
                deferred = [f"{name} deferred ({s.confidence:.2f})" for name, s in unsure]
                return suggestion.model_copy(
                    update={"reasons": [f"decided by {classifier.name}", *deferred,
                                        *suggestion.reasons]}
                )
            unsure.append((classifier.name, suggestion))
        name, best = max(unsure, key=lambda pair: pair[1].confidence)
        others = [f"{n} unsure ({s.confidence:.2f})" for n, s in unsure if n != name]
        return best.model_copy(
            update={"reasons": [f"no classifier was sure; best guess from {name}", *others,
                                *best.reasons]}
        )


def labels_from(config: ClassifierConfig, categories: Iterable[str] | None = None) -> Labels:
    """The enums from config (or an explicit category list, e.g. an evaluation CSV's)."""
    return Labels(
        tuple(categories) if categories is not None else tuple(config.categories),
        tuple(config.urgencies),
        config.min_confidence,
    )


def rules_from(config: ClassifierConfig, labels: Labels) -> RulesClassifier:
    """The configured ruleset (strict), or the bundled one minus rules for unconfigured values."""
    strict = bool(config.rules_path)
    return RulesClassifier(load_ruleset(config.rules_path or None), labels, strict=strict)


def build_member(
    name: str,
    config: ClassifierConfig,
    labels: Labels,
    *,
    training_examples: Iterable[tuple[str, str]] = (),
    rules: RulesClassifier | None = None,
) -> Classifier:
    """One named classifier: rules (or keywords), learned, or llm."""
    if name in ("rules", "keywords"):
        return rules or rules_from(config, labels)
    if name in ("learned", "embed"):
        from triage_tui.classify.learned import LearnedClassifier, RetrainingClassifier  # scikit-learn: seconds

        base: list[tuple[str, str]] = []
        if config.training_csv:
            from triage_tui.classify.evaluate import load_csv

            base = load_csv(config.training_csv)
        if name == "embed":
            inner = build_embed(config, labels, rules or rules_from(config, labels))
        else:
            inner = LearnedClassifier(
                labels,
                min_training_examples=config.min_training_examples,
                urgency_of=rules.urgency_of if rules else None,
            )
        retraining = RetrainingClassifier(
            inner, retrain_after=config.retrain_after, base_examples=base
        )
        retraining.train(training_examples)
        return retraining
    if name == "llm":
        if not config.llm.base_url:
            raise ClassifierSetupError(
                "classifier.chain names llm but classifier.llm.base_url is empty"
            )
        from triage_tui.classify.llm import LLMClassifier

        return LLMClassifier(config.llm, labels)
    raise ClassifierSetupError(f"unknown classifier {name!r} in classifier.chain")


def build_embed(config: ClassifierConfig, labels: Labels, rules: RulesClassifier):
    """The embed classifier on verified weights; EmbedUnavailable (one line) when it cannot run."""
    from triage_tui.classify.embed import EmbedClassifier
    from triage_tui.classify.weights import REVISION, load_encoder, resolve

    weights = resolve(config.embed_model)
    return EmbedClassifier(
        labels,
        load_encoder(weights, config.embed_max_tokens),
        examples=rules.examples,
        rule_scores=rules.category_scores,
        urgency_of=rules.urgency_of,
        min_training_examples=config.min_training_examples,
        target_accuracy=config.target_accuracy,
        weights_version=f"{REVISION[:8]}/{config.embed_max_tokens}",
    )


def build_classifier(
    config: ClassifierConfig, *, training_examples: Iterable[tuple[str, str]] = ()
) -> ChainClassifier:
    """The configured chain; `training_examples` are the store's approved (text, category).

    An `embed` member that cannot run here (no extra, no weights, altered weights) becomes the
    learned TF-IDF model; the reason is logged once and kept in the chain's notes.
    """
    from triage_tui.classify.weights import EmbedUnavailable

    labels = labels_from(config)
    rules = rules_from(config, labels)
    examples = list(training_examples)
    members: list[Classifier] = []
    notes: list[str] = []
    warnings: list[str] = []
    for name in config.chain:
        try:
            member = build_member(name, config, labels, training_examples=examples, rules=rules)
        except EmbedUnavailable as exc:
            notes.append(f"embed unavailable: {exc}; using TF-IDF")
            if exc.loud:
                warnings.append(notes[-1])
                log.warning("embed classifier unavailable: %s; falling back to TF-IDF", exc)
            if "learned" in config.chain:
                continue
            member = build_member("learned", config, labels, training_examples=examples,
                                  rules=rules)
        members.append(member)
    chain = ChainClassifier(members, labels, notes)
    chain.warnings = warnings
    return chain


def classifier_status(config: ClassifierConfig) -> dict:
    """What the configured chain runs on this machine, without loading any model.

    {"chain": names as they will answer, "line": one line for people, "embed": where the
    weights are, or "" , "note": why embed fell back, or ""}.
    """
    from triage_tui.classify.weights import EmbedUnavailable, resolve

    names: list[str] = []
    parts: list[str] = []
    embed_where, note = "", ""
    for name in config.chain:
        if name == "embed":
            try:
                weights = resolve(config.embed_model)
            except EmbedUnavailable as exc:
                note = f"embed unavailable: {exc}; using TF-IDF"
                if "learned" in config.chain:
                    continue
                name = "learned"
            else:
                embed_where = weights.describe()
                examples = sum(len(v) for v in rules_from(config, labels_from(config)).examples.values())
                parts.append(f"embed (MiniLM-L6 + TF-IDF; {examples} ruleset examples as prototypes "
                             f"until {config.min_training_examples} decisions)")
                names.append(name)
                continue
        names.append(name)
        parts.append("learned (TF-IDF)" if name == "learned" else name)
    line = " -> ".join(parts) + (f"; {note}" if note else "")
    return {"chain": names, "line": line, "embed": embed_where, "note": note}
