"""The configured chain: who decides, whose version the suggestion carries, and the factory."""

from __future__ import annotations

import pytest

from triage_tui.classify.base import Classifier
from triage_tui.classify.chain import ChainClassifier, build_classifier, labels_from
from triage_tui.classify.labels import ClassifierSetupError
from triage_tui.classify.learned import UNTRAINED, RetrainingClassifier
from triage_tui.classify.rules import RulesClassifier
from triage_tui.config import ClassifierConfig, LLMConfig

from tests.classify.corpus import examples, message
from tests.classify.fake_llm import FakeLLM


def test_untrained_learned_falls_back_to_the_rules() -> None:
    chain = build_classifier(ClassifierConfig(chain=["learned", "rules"]))
    s = chain.classify(message("Refund please", "I was charged twice for my invoice"))
    assert (s.category, s.needs_human) == ("billing", False)
    assert s.classification_version.startswith("rules-")
    assert s.reasons[:2] == ["decided by rules", "learned deferred (0.00)"]
    assert isinstance(chain, Classifier)


def test_trained_learned_decides_with_its_own_version() -> None:
    chain = build_classifier(ClassifierConfig(), training_examples=examples(25, seed=3))
    s = chain.classify(message("Dashboard", "The dashboard page crashes with an error"))
    assert s.category == "bug" and not s.needs_human
    assert s.classification_version == chain.classifiers[0].version != UNTRAINED
    assert s.reasons[0] == "decided by learned"


def test_urgency_still_comes_from_the_rules_when_learned_decides() -> None:
    chain = build_classifier(ClassifierConfig(), training_examples=examples(25, seed=3))
    s = chain.classify(message("Outage", "The dashboard page crashes with an error, prod down"))
    assert (s.category, s.urgency) == ("bug", "critical")


def test_nobody_sure_means_needs_human_with_the_best_guess() -> None:
    chain = build_classifier(ClassifierConfig(chain=["learned", "rules"]))
    s = chain.classify(message("Hi", "see you soon"))
    assert s.needs_human
    assert s.reasons[0].startswith("no classifier was sure; best guess from")


def test_llm_is_asked_only_when_the_others_are_unsure(fake_llm: FakeLLM) -> None:
    config = ClassifierConfig(chain=["rules", "llm"], llm=LLMConfig(base_url=fake_llm.url,
                                                                   model="fake"))
    chain = build_classifier(config)
    sure = chain.classify(message("Refund", "I was charged twice for my invoice"))
    assert sure.classification_version.startswith("rules-") and fake_llm.requests == []
    unsure = chain.classify(message("Hmm", "Please add a feature: the app should crash less"))
    assert fake_llm.requests, "the LLM should have been asked"
    assert unsure.reasons[0] == "decided by llm"
    assert unsure.classification_version.startswith("llm-")


def test_a_member_that_raises_is_skipped() -> None:
    class Broken:
        name = "broken"
        version = "broken-1"

        def classify(self, message):
            raise RuntimeError("boom")

    labels = labels_from(ClassifierConfig())
    from triage_tui.classify.rules import load_ruleset

    chain = ChainClassifier([Broken(), RulesClassifier(load_ruleset(), labels)], labels)
    s = chain.classify(message("Refund", "charged twice"))
    assert s.category == "billing" and s.reasons[1] == "broken deferred (0.00)"


def test_llm_in_chain_without_endpoint_is_a_clear_error() -> None:
    with pytest.raises(ClassifierSetupError, match="llm.base_url is empty"):
        build_classifier(ClassifierConfig(chain=["rules", "llm"]))


def test_keywords_is_the_rules_classifier() -> None:
    chain = build_classifier(ClassifierConfig(chain=["keywords"]))
    assert isinstance(chain.classifiers[0], RulesClassifier)


def test_custom_categories_drop_bundled_rules_for_missing_ones() -> None:
    config = ClassifierConfig(chain=["rules"], categories=["billing", "other"])
    rules = build_classifier(config).classifiers[0]
    assert "bug-terms" in rules.skipped
    s = rules.classify(message("Crash", "the app crashes with an error"))
    assert s.category in ("billing", "other") and s.needs_human


def test_custom_ruleset_with_unknown_category_is_refused(tmp_path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[[rules]]\nid="x"\ncategory="wire_money"\nkeywords=["pay"]\n')
    with pytest.raises(ClassifierSetupError, match="wire_money"):
        build_classifier(ClassifierConfig(chain=["rules"], rules_path=str(path)))


def test_training_csv_from_config_is_learned_from(tmp_path) -> None:
    path = tmp_path / "train.csv"
    rows = "\n".join(f'"{t}",{c}' for t, c in examples(10, seed=6))
    path.write_text("text,category\n" + rows + "\n")
    chain = build_classifier(ClassifierConfig(training_csv=str(path), min_training_examples=30))
    learned = chain.classifiers[0]
    assert isinstance(learned, RetrainingClassifier) and learned.learned.trained
    chain.train(examples(5, seed=9))  # approved decisions are added to the CSV, not instead
    assert learned.learned._model.n_examples == 60 + 30
