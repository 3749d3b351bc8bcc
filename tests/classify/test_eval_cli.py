"""`triage-tui classify eval` on small CSVs made here."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from triage_tui.cli import main

from tests.classify.corpus import examples


def write_csv(path, rows, header=("text", "category")) -> str:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


@pytest.fixture
def csvs(tmp_path):
    return (write_csv(tmp_path / "train.csv", examples(20, seed=1)),
            write_csv(tmp_path / "test.csv", examples(8, seed=2)))


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_eval_learned_prints_the_figures(csvs) -> None:
    train, test = csvs
    result = run("classify", "eval", "--train", train, "--test", test)
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output and "macro-F1" in result.output
    assert "msgs/s in batch" in result.output and "p50" in result.output
    accuracy = float(result.output.split("accuracy", 1)[1].split("%")[0])
    assert accuracy >= 80.0


def test_eval_json_is_machine_readable(csvs) -> None:
    train, test = csvs
    result = run("classify", "eval", "--train", train, "--test", test, "--json")
    report = json.loads(result.output)
    assert report["test_examples"] == 48 and report["train_examples"] == 120
    assert 0.8 <= report["accuracy"] <= 1.0 and 0.0 <= report["macro_f1"] <= 1.0
    assert report["batch_msgs_per_s"] > 0 and report["p50_latency_ms"] > 0
    assert report["version"].startswith("learned-")
    assert all({"true", "predicted", "count"} <= set(c) for c in report["worst_confusions"])


def test_eval_rules_needs_no_training_file(csvs) -> None:
    _, test = csvs
    result = run("classify", "eval", "--test", test, "--classifier", "rules", "--json")
    report = json.loads(result.output)
    assert report["version"].startswith("rules-") and report["accuracy"] > 0.3


def test_missing_file_is_one_clear_line(tmp_path) -> None:
    result = CliRunner().invoke(main, ["classify", "eval", "--train", str(tmp_path / "x.csv"),
                                       "--test", str(tmp_path / "y.csv")])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "x.csv: file not found" in result.output


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("sentence,label\nhello,bug\n", "needs a header with 'text' and 'category'"),
        ("text,category\nhello,\n", ":2: empty text or category"),
        ("text,category\n", "no rows"),
        (b"text,category\n\xff\xfe,bug\n", "cannot read CSV"),
    ],
)
def test_bad_csv_is_one_clear_line(tmp_path, csvs, content, fragment) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = CliRunner().invoke(main, ["classify", "eval", "--train", str(bad), "--test", csvs[1]])
    assert result.exit_code == 2 and fragment in result.output
    assert "Traceback" not in result.output


def test_learned_needs_train(csvs) -> None:
    result = CliRunner().invoke(main, ["classify", "eval", "--test", csvs[1]])
    assert result.exit_code == 2 and "--train is required" in result.output


def test_too_small_training_file_is_explained(tmp_path, csvs) -> None:
    small = write_csv(tmp_path / "small.csv", examples(2, seed=1))
    result = CliRunner().invoke(main, ["classify", "eval", "--train", small, "--test", csvs[1]])
    assert result.exit_code == 2 and "needs at least 30" in result.output


def test_help_lists_every_option() -> None:
    result = CliRunner().invoke(main, ["classify", "eval", "--help"])
    for option in ("--train", "--test", "--classifier", "--json"):
        assert option in result.output
