"""The shortcuts that make the chain cheap answer exactly as the slow paths they replace."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from triage_tui.classify.chain import build_classifier
from triage_tui.classify.labels import Labels
from triage_tui.classify.rules import RulesClassifier, fold, load_ruleset, parse_ruleset
from triage_tui.classify.text import message_text
from triage_tui.config import ClassifierConfig

from tests.classify.corpus import message

CONFIG = ClassifierConfig()
LABELS = Labels(tuple(CONFIG.categories), tuple(CONFIG.urgencies), CONFIG.min_confidence)
BUNDLED = RulesClassifier(load_ruleset(), LABELS, strict=False)
ODD_RULES = RulesClassifier(parse_ruleset("""
[[rules]]
id = "accented"
category = "billing"
keywords = ["facturación", "Straße"]

[[rules]]
id = "mixed"
category = "bug"
keywords = ["crash"]
patterns = ['error\\s+\\d{3}']
"""), LABELS)
# Characters IGNORECASE matches to ASCII letters, and the neighbours the keyword borders check.
PIECES = st.sampled_from(["invoice", "refund", "crash", "error 500", "billing", "password", "outage",
                          "facturación", "straße", "STRASSE", "\u0130nvoice", "b\u0131lling", "cra\u017fh",
                          "\u212aey", "@", ".", "x", " ", "-", "É", "ß", "\n", "Refund", "INVOICE"])
TEXTS = st.lists(PIECES, max_size=12).map("".join) | st.text(max_size=40)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_the_keyword_precheck_finds_what_the_regex_finds(text: str) -> None:
    for rules in (BUNDLED, ODD_RULES):
        for rule in rules._rules:
            slow, fast = rule.regex.search(text), rule.search(text, fold(text))
            assert (slow and (slow.span(), slow.group(0))) == (fast and (fast.span(), fast.group(0))), rule.spec.id


def test_dotless_i_and_kelvin_sign_still_match_like_the_regex() -> None:
    rule = next(r for r in BUNDLED._rules if r.regex.search("invoice"))
    assert rule.search("b\u0131lling \u0130NVOICE", fold("b\u0131lling \u0130NVOICE")) is not None


def test_a_message_is_prepared_and_scored_by_the_rules_once_per_chain_run(monkeypatch) -> None:
    chain = build_classifier(ClassifierConfig(chain=["learned", "rules"]))
    rules = chain.classifiers[1]
    calls = []
    original = rules._classify
    monkeypatch.setattr(rules, "_classify", lambda m: calls.append(m) or original(m))
    first, second = message("Refund", "charged twice on my invoice"), message("Crash", "the app crashes")
    s1, s2 = chain.classify(first), chain.classify(second)
    assert len(calls) == 2 and calls == [first, second]
    assert (s1.category, s2.category) == ("billing", "bug")
    assert s1.reasons[:2] == ["decided by rules", "learned deferred (0.00)"]
    assert message_text(second) is message_text(second)


def test_the_cached_answer_is_the_same_as_a_fresh_one() -> None:
    chain = build_classifier(ClassifierConfig(chain=["learned", "rules"]))
    fresh = build_classifier(ClassifierConfig(chain=["rules", "learned"]))
    mail = message("Outage", "Production is down, error 503 on checkout, please refund")
    assert chain.classify(mail).urgency == fresh.classify(mail).urgency == "critical"
    assert chain.classifiers[1].classify(mail) == fresh.classifiers[0].classify(mail)
