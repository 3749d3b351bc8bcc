"""Risk-coverage figures, `classify eval --classifier embed`, and ruleset examples."""

from __future__ import annotations

import json

import pytest

from tests.classify.corpus import examples
from tests.classify.test_eval_cli import run, write_csv
from triage_tui.classify import risk
from triage_tui.classify.labels import ClassifierSetupError
from triage_tui.classify.rules import RulesClassifier, parse_ruleset
from triage_tui.classify.chain import labels_from
from triage_tui.config import ClassifierConfig


def test_risk_coverage_reads_the_tradeoff() -> None:
    confidence = [0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    correct = [True, True, True, True, False, True, True, False, False, False]
    assert risk.accuracy_at_coverage(confidence, correct, 0.5) == 0.8
    assert risk.accuracy_at_coverage(confidence, correct, 0.4) == 1.0
    assert risk.threshold_for(confidence, correct, 1.0) == 0.8
    assert risk.threshold_for(confidence, correct, 0.8) == 0.5
    assert risk.threshold_for([0.5, 0.5], [True, False], 0.9) is None  # ties stay together
    # 97 right of 100 above 0.5 is not yet sure evidence of 95 %: the bound asks for more.
    many = [0.9] * 97 + [0.6] * 3
    assert risk.threshold_for(many, [True] * 97 + [False] * 3, 0.95) == 0.6
    assert risk.threshold_for(many, [True] * 97 + [False] * 3, 0.95, z=1.645) == 0.9
    assert risk.threshold_for([0.9] * 100, [True] * 100, 0.99, z=1.645) is None
    point = risk.point(confidence, correct, 0.8)
    assert (point.coverage, point.accuracy) == (0.4, 1.0)
    assert [p.coverage for p in risk.curve(confidence, correct, (1.0, 0.5))] == [1.0, 0.5]


def test_eval_embed_prints_every_figure(model_dir, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("TRIAGE_TUI_EMBED", raising=False)
    train = write_csv(tmp_path / "train.csv", examples(8, seed=1))
    test = write_csv(tmp_path / "test.csv", examples(3, seed=2))
    result = run("classify", "eval", "--train", train, "--test", test, "--classifier", "embed",
                 "--few-shot", "3", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["classifier"] == "embed" and report["version"].startswith("embed-")
    assert report["accuracy"] > 0.8 and report["macro_f1"] > 0.8
    assert len(report["few_shot"]["accuracies"]) == 3 and report["few_shot"]["per_class"] == 3
    assert report["risk_coverage"][0]["coverage"] == 1.0 and report["accuracy_at_90_coverage"] > 0
    assert report["train_seconds"] > 0 and report["p50_latency_ms"] > 0
    assert "MB of weights" in report["install_added"] and "tokenizers" in report["install_added"]


def test_eval_embed_without_weights_is_one_line(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("TRIAGE_TUI_EMBED", raising=False)
    train = write_csv(tmp_path / "train.csv", examples(12, seed=1))
    config = tmp_path / "c.toml"
    config.write_text(f'[classifier]\nembed_model = "{tmp_path / "none"}"\n')
    result = run("--config", str(config), "classify", "eval", "--train", train, "--test", train,
                 "--classifier", "embed")
    assert result.exit_code == 2 and "is not a folder" in result.output
    assert "Traceback" not in result.output


def test_learned_eval_reports_risk_coverage_and_few_shot(tmp_path) -> None:
    train = write_csv(tmp_path / "train.csv", examples(12, seed=1))
    test = write_csv(tmp_path / "test.csv", examples(4, seed=2))
    result = run("classify", "eval", "--train", train, "--test", test, "--few-shot", "6")
    assert result.exit_code == 0, result.output
    assert "6-shot" in result.output and "at 90% coverage" in result.output
    assert "risk-coverage" in result.output and "install added   none" in result.output


RULESET = """
[categories.billing]
examples = ["I was charged twice"]
[[rules]]
id = "b"
category = "billing"
keywords = ["invoice"]
"""


def test_ruleset_examples_are_validated_and_versioned() -> None:
    labels = labels_from(ClassifierConfig())
    one = RulesClassifier(parse_ruleset(RULESET), labels)
    assert one.examples == {"billing": ["I was charged twice"]}
    other = RulesClassifier(parse_ruleset(RULESET.replace("twice", "two times")), labels)
    assert other.version != one.version
    with pytest.raises(ClassifierSetupError, match="categories.refunds: examples for a category"):
        RulesClassifier(parse_ruleset(RULESET.replace("categories.billing", "categories.refunds")),
                        labels)
    with pytest.raises(ClassifierSetupError, match="categories.billing.example"):
        parse_ruleset(RULESET.replace("examples =", "example ="))
