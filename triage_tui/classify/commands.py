"""`triage-tui classify ...`: evaluate a classifier on labelled CSVs."""

from __future__ import annotations

import json

import click

from triage_tui.cli import fail, load


@click.group()
def classify() -> None:
    """Classifier tools."""


@classify.command("eval")
@click.option("--train", "train_path", type=click.Path(dir_okay=False), default=None,
              help="`text,category` CSV to train on (required for learned and chain).")
@click.option("--test", "test_path", type=click.Path(dir_okay=False), required=True,
              help="`text,category` CSV to score on.")
@click.option("--classifier", "name", type=click.Choice(["learned", "rules", "llm", "chain"]),
              default="learned", show_default=True, help="Which classifier to evaluate.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def eval_command(
    ctx: click.Context, train_path: str | None, test_path: str, name: str, as_json: bool
) -> None:
    """Accuracy, macro-F1, worst confusions, throughput and latency on labelled CSVs."""
    from triage_tui.classify.chain import build_classifier, build_member, labels_from
    from triage_tui.classify.evaluate import evaluate, load_csv
    from triage_tui.classify.labels import ClassifierSetupError
    from triage_tui.classify.learned import LearnedClassifier

    config = load(ctx).classifier
    try:
        if name in ("learned", "chain") and not train_path:
            fail(f"--train is required for --classifier {name}", code=2)
        train = load_csv(train_path) if train_path else []
        test = load_csv(test_path)
        if name == "learned":
            categories = sorted({c for _, c in train})
            classifier = LearnedClassifier(
                labels_from(config, categories),
                min_training_examples=config.min_training_examples,
            )
            classifier.train(train)
            if not classifier.trained:
                fail(
                    f"{train_path}: {len(train)} usable examples in {len(categories)} categories;"
                    f" the learned model needs at least {config.min_training_examples} and 2",
                    code=2,
                )
        elif name == "chain":
            classifier = build_classifier(config, training_examples=train)
        else:
            categories = None
            if name == "llm":
                categories = sorted({c for _, c in train + test})
            classifier = build_member(name, config, labels_from(config, categories))
        report = evaluate(classifier, name, len(train), test)
    except ClassifierSetupError as exc:
        fail(str(exc), code=2)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for line in report.lines():
            click.echo(line)
