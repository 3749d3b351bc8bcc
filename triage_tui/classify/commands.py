"""`triage-tui classify ...`: evaluate a classifier on labelled CSVs; fetch the embed model."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import click

from triage_tui.cli import fail, load

CHOICES = ["learned", "embed", "rules", "llm", "chain"]


@click.group()
def classify() -> None:
    """Classifier tools."""


def _trainer(name: str, config, categories: list[str]):
    """A function that builds and trains a fresh `name` classifier on (text, category) rows only
    (no ruleset examples: the figures are about the CSV)."""
    from triage_tui.classify.chain import labels_from
    from triage_tui.classify.learned import LearnedClassifier

    labels = labels_from(config, categories)
    if name == "embed":
        from triage_tui.classify.embed import EmbedClassifier
        from triage_tui.classify.weights import load_encoder, resolve

        encoder = load_encoder(resolve(config.embed_model), config.embed_max_tokens)

        def make(rows):
            fresh = EmbedClassifier(labels, encoder,
                                    min_training_examples=config.min_training_examples,
                                    target_accuracy=config.target_accuracy)
            fresh.train(rows)
            return fresh
    else:
        def make(rows):
            fresh = LearnedClassifier(labels, min_training_examples=config.min_training_examples)
            fresh.train(rows)
            return fresh
    return make


@classify.command("eval")
@click.option("--train", "train_path", type=click.Path(dir_okay=False), default=None,
              help="`text,category` CSV to train on (required for learned, embed and chain).")
@click.option("--test", "test_path", type=click.Path(dir_okay=False), required=True,
              help="`text,category` CSV to score on.")
@click.option("--classifier", "name", type=click.Choice(CHOICES),
              default="learned", show_default=True, help="Which classifier to evaluate.")
@click.option("--few-shot", "per_class", type=int, default=10, show_default=True,
              help="Also train on N rows per category (3 seeds) and report the mean; 0 skips.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def eval_command(
    ctx: click.Context, train_path: str | None, test_path: str, name: str, per_class: int,
    as_json: bool,
) -> None:
    """Accuracy, macro-F1, risk-coverage, few-shot, speed and training time on labelled CSVs."""
    from triage_tui.classify.chain import build_classifier, build_member, labels_from
    from triage_tui.classify.evaluate import evaluate, few_shot, load_csv
    from triage_tui.classify.labels import ClassifierSetupError
    from triage_tui.classify.weights import WeightsError

    config = load(ctx).classifier
    try:
        if name in ("learned", "embed", "chain") and not train_path:
            fail(f"--train is required for --classifier {name}", code=2)
        train = load_csv(train_path) if train_path else []
        test = load_csv(test_path)
        seconds, shots = 0.0, {}
        if name in ("learned", "embed"):
            categories = sorted({c for _, c in train})
            make = _trainer(name, config, categories)
            started = time.perf_counter()
            classifier = make(train)
            seconds = time.perf_counter() - started
            if not classifier.trained:
                fail(
                    f"{train_path}: {len(train)} usable examples in {len(categories)} categories;"
                    f" the {name} model needs at least {config.min_training_examples} and 2",
                    code=2,
                )
            if per_class > 0:
                shots = few_shot(make, train, test, per_class)
        elif name == "chain":
            classifier = build_classifier(config, training_examples=train)
        else:
            categories = None
            if name == "llm":
                categories = sorted({c for _, c in train + test})
            classifier = build_member(name, config, labels_from(config, categories))
        report = evaluate(classifier, name, len(train), test)
    except (ClassifierSetupError, WeightsError) as exc:
        fail(str(exc), code=2)
    report = replace(report, train_seconds=seconds, few_shot=shots,
                     install_added=_install_added(name))
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for line in report.lines():
            click.echo(line)


def _install_added(name: str) -> str:
    from triage_tui.classify import footprint
    from triage_tui.classify.weights import FILES

    if name == "embed":
        size, names = footprint.added_by_extra("embed")
        weights = sum(s for s, _ in FILES.values())
        return (f"{footprint.megabytes(size)} of packages ({', '.join(names)}) "
                f"+ {footprint.megabytes(weights)} of weights")
    if name in ("learned", "chain"):
        size, _ = footprint.default_classifier_bytes()
        return f"none (scikit-learn stack, {footprint.megabytes(size)}, is in the default install)"
    return ""


@classify.command("fetch-model")
@click.option("--hub", default=None, help="Model hub base URL (default: [classifier] model_hub).")
@click.option("--dest", type=click.Path(file_okay=False), default=None,
              help="Folder to put the files in (default: the user data folder triage-tui "
                   "looks in; point [classifier] embed_model at any other).")
@click.pass_context
def fetch_model(ctx: click.Context, hub: str | None, dest: str | None) -> None:
    """Download the pinned all-MiniLM-L6-v2 files for the embed classifier and check their sha256."""
    from triage_tui.classify import weights

    config = load(ctx).classifier
    source = hub or config.model_hub
    target = Path(dest).expanduser() if dest else weights.fetch_dir()
    click.echo(f"fetching {weights.REPO}@{weights.REVISION[:8]} from {source} into {target}")
    try:
        got = weights.fetch(source, target)
    except (weights.WeightsError, OSError) as exc:
        fail(str(exc))
    click.echo(f"ok: {got.describe()}")
    if dest and Path(dest).expanduser().resolve() != weights.fetch_dir().resolve():
        click.echo(f'set [classifier] embed_model = "{target}" to use this copy')
    missing = weights.missing_extra()
    if missing:
        click.echo("the embed classifier also needs: pip install 'triage-tui[embed]'")
