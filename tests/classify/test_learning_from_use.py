"""Approved human decisions that contradict the rules change the learned suggestion."""

from __future__ import annotations

import random

from triage_tui.classify.chain import build_classifier
from triage_tui.classify.learned import RetrainingClassifier
from triage_tui.config import ClassifierConfig

from tests.classify.corpus import examples, message

PHISH = "Invoice #{n} overdue: pay the {amount} balance via the secure link {host} today"
HOSTS = ["pay-now.example", "invoices-secure.example", "billing-portal.example", "settle.example"]


def phishing_invoice(rng: random.Random) -> str:
    return PHISH.format(n=rng.randint(1000, 9999), amount=f"${rng.randint(50, 900)}",
                        host=rng.choice(HOSTS))


def test_two_hundred_contradicting_decisions_flip_the_learned_suggestion() -> None:
    config = ClassifierConfig(chain=["learned", "rules"], retrain_after=25)
    chain = build_classifier(config, training_examples=examples(25, seed=4))
    learned = chain.classifiers[0]
    rules = chain.classifiers[1]
    assert isinstance(learned, RetrainingClassifier)
    rng = random.Random(2026)
    probe = message("Invoice #5150 overdue", phishing_invoice(rng).split(": ", 1)[1])
    legit = message("Invoice for March", "Can you send me the invoice for March for the Pro plan?")

    before = chain.classify(probe)
    assert before.category == "billing"
    assert rules.classify(probe).category == "billing"  # the rules call it billing
    first_version = before.classification_version
    assert first_version.startswith("learned-")

    for _ in range(200):  # the on-call team keeps approving these as spam
        chain.add_label(phishing_invoice(rng), "spam")
    assert learned.wait(60)

    after = chain.classify(probe)
    assert (after.category, after.needs_human) == ("spam", False)
    assert after.classification_version.startswith("learned-")
    assert after.classification_version != first_version
    assert after.reasons[0] == "decided by learned"
    assert rules.classify(probe).category == "billing"  # rules unchanged: the model learned it
    assert chain.classify(legit).category == "billing"  # ordinary invoices still billing
    assert learned.retrain_count >= 1
