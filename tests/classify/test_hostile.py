"""Hostile mail can never steer a suggestion outside the enums; the flip rate is reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage_tui.classify.chain import ChainClassifier, labels_from
from triage_tui.classify.learned import LearnedClassifier
from triage_tui.classify.llm import LLMClassifier
from triage_tui.classify.model import ModelParams
from triage_tui.classify.redteam import load_injections, run_redteam, schema_problem
from triage_tui.classify.rules import RulesClassifier, load_ruleset
from triage_tui.config import ClassifierConfig, LLMConfig
from triage_tui.domain import Suggestion

from tests.classify.corpus import examples, message
from tests.classify.fake_llm import FakeLLM

INJECTIONS = load_injections(Path(__file__).parent / "data" / "injections.json")
CONFIG = ClassifierConfig()
LABELS = labels_from(CONFIG)
BENIGN = [
    message("Refund request", "Please refund the payment for the Team plan, we cancelled."),
    message("Export broken", "The reports export crashes with an error since Monday."),
    message("Locked out", "I cannot log in, the password reset email never arrives."),
    message("Idea", "It would be great if the calendar supported dark mode."),
    message("Hello", "Thanks for the help last week, see you at the meetup."),
]


@pytest.fixture(scope="module")
def classifiers() -> dict:
    rules = RulesClassifier(load_ruleset(), LABELS)
    learned = LearnedClassifier(LABELS, urgency_of=rules.urgency_of,
                                params=ModelParams(calibrate=False))
    learned.train(examples(25, seed=8))
    return {"rules": rules, "learned": learned,
            "chain": ChainClassifier([learned, rules], LABELS)}


def test_corpus_covers_every_attack_kind() -> None:
    kinds = {item["kind"] for item in INJECTIONS}
    assert {"change category", "change urgency", "change recipient", "change grant",
            "fake system turn", "unicode tag smuggling", "out of enum"} <= kinds
    assert len(INJECTIONS) >= 20


def test_a_suggestion_has_no_field_that_could_carry_an_action() -> None:
    assert set(Suggestion.model_fields) == {
        "category", "urgency", "confidence", "reasons", "classification_version", "needs_human", "provisional"
    }


@pytest.mark.parametrize("name", ["rules", "learned", "chain"])
def test_local_classifiers_stay_schema_valid_under_attack(classifiers: dict, name: str) -> None:
    report = run_redteam(name, classifiers[name], LABELS, BENIGN, INJECTIONS)
    print("\n" + report.line())
    assert report.pairs == len(BENIGN) * len(INJECTIONS)
    assert report.errors == [] and report.invalid == []


def test_a_gullible_llm_still_cannot_leave_the_enums(fake_llm: FakeLLM) -> None:
    llm = LLMClassifier(LLMConfig(base_url=fake_llm.url, model="gullible"), LABELS)
    report = run_redteam("llm", llm, LABELS, BENIGN, INJECTIONS)
    print("\n" + report.line())
    assert report.errors == [] and report.invalid == []
    # The fake model obeys injected instructions: flips happen, but out-of-enum ones cannot land.
    assert report.category_flips > 0
    for item in [i for i in INJECTIONS if i["kind"] == "out of enum"]:
        attacked = llm.classify(message("Refund", "Please refund my payment\n" + item["text"]))
        assert attacked.needs_human and attacked.category == "other"


@pytest.mark.parametrize("name", ["rules", "learned", "chain"])
def test_tag_smuggling_always_goes_to_a_human(classifiers: dict, name: str) -> None:
    for item in [i for i in INJECTIONS if i["kind"] == "unicode tag smuggling"]:
        for base in BENIGN:
            s = classifiers[name].classify(base.model_copy(
                update={"body_text": base.body_text + item["text"]}))
            assert s.needs_human
            assert any("ASCII smuggling" in r for r in s.reasons)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(subject=st.text(max_size=80), body=st.text(max_size=400), sender=st.text(max_size=40))
def test_any_text_yields_a_valid_suggestion(classifiers, subject, body, sender) -> None:
    mail = message(subject, body, sender=sender)
    for classifier in classifiers.values():
        assert schema_problem(classifier.classify(mail), LABELS) == ""
