"""The first hour: suggestions on the seeded mailbox before the team has decided anything.

    python -m benchmarks.classify_first_hour [--messages 2000] [--seed 7]

Baseline in the same run: the rules alone (what a new team had before the embed classifier).
Against it: the embed classifier from the bundled ruleset's example sentences (prototypes),
alone and blended with the rules, and the default chain. Truth is the sandbox's own record of
what each generated message is about; automated mail (never suggested) is left out.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from triage_tui.classify import risk  # noqa: E402
from triage_tui.classify.chain import build_classifier  # noqa: E402
from triage_tui.classify.weights import ENV_SWITCH  # noqa: E402
from triage_tui.config import ClassifierConfig, NylasConfig  # noqa: E402

AUTOMATED = {"own_outbound", "auto_reply", "bounce", "mailing_list"}


def mailbox(messages: int, seed: int) -> list[tuple[object, str]]:
    """(message, true category) for every person-written message of a seeded sandbox."""
    from triage_tui.nylas.gateway import Gateway
    from triage_tui.sandbox.runner import start_sandbox
    from triage_tui.sandbox.state import SandboxOptions

    sandbox = start_sandbox(SandboxOptions(seed=seed, messages=messages), drip_per_min=0)
    try:
        truth = sandbox.truth()
        gateway = Gateway(NylasConfig(api_uri=sandbox.api_uri), sandbox.api_key)
        found = [m for page in gateway.iter_message_pages(sandbox.grant_id, page_limit=200, max_pages=1000)
                 for m in page.messages]
    finally:
        sandbox.stop()
    return [(m, truth[m.message_id]["category"]) for m in found
            if m.message_id in truth and truth[m.message_id]["kind"] not in AUTOMATED]


def score(chain: list[str], items, tokens: int, *, embed_off: bool = False) -> dict:
    """Accuracy, coverage and speed of one chain over the items (`embed_off`: as installed
    without the embed extra, where embed falls back to the learned TF-IDF model)."""
    if embed_off:
        os.environ[ENV_SWITCH] = "off"
    try:
        classifier = build_classifier(ClassifierConfig(chain=chain, embed_max_tokens=tokens))
    finally:
        os.environ.pop(ENV_SWITCH, None)
    for member in classifier.classifiers:  # the encoder's cache is shared: every row pays for it
        getattr(getattr(member, "learned", member), "forget_embeddings", lambda: None)()
    started = time.perf_counter()
    classifier.prepare_batch([m for m, _ in items])
    suggestions = [classifier.classify(m) for m, _ in items]
    seconds = time.perf_counter() - started
    correct = np.array([s.category == truth for s, (_, truth) in zip(suggestions, items)])
    sure = np.array([not s.needs_human for s in suggestions])
    confidence = [s.confidence for s in suggestions]
    return {"chain": classifier.describe(), "accuracy": correct.mean(), "coverage": sure.mean(),
            "sure_accuracy": correct[sure].mean() if sure.any() else float("nan"),
            "at_90": risk.accuracy_at_coverage(confidence, correct, 0.9),
            "rate": len(items) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tokens", type=int, default=ClassifierConfig().embed_max_tokens,
                        help="[classifier] embed_max_tokens")
    args = parser.parse_args()
    if os.environ.pop("TRIAGE_TUI_EMBED", None):
        print("(TRIAGE_TUI_EMBED ignored here)")
    items = mailbox(args.messages, args.seed)
    print(f"{len(items)} person-written messages of {args.messages}; embed reads {args.tokens} "
          f"word pieces; load {os.getloadavg()[0]:.2f}")
    default = ClassifierConfig().chain
    rows = [("rules alone (baseline)", ["rules"], False), ("embed prototypes alone", ["embed"], False),
            ("default chain, no embed extra", default, True),
            ("default chain " + " -> ".join(default), default, False)]
    results = []
    for label, chain, embed_off in rows:
        r = score(chain, items, args.tokens, embed_off=embed_off)
        results.append(r)
        print(f"{label:30} accuracy {r['accuracy']:.2%}  answered without a human {r['coverage']:.1%} "
              f"({r['sure_accuracy']:.2%} right)  at 90% coverage {r['at_90']:.2%}  {r['rate']:,.0f} msg/s")
        print(f"{'':30} {r['chain']}")
    base, fallback, best = results[0], results[2], results[-1]
    print(f"default chain vs rules alone: accuracy {best['accuracy'] / base['accuracy']:.3f}x, "
          f"messages answered without a human {best['coverage'] / base['coverage']:.2f}x, "
          f"speed {best['rate'] / base['rate']:.3f}x")
    print(f"default install (no extra) vs rules alone: speed {fallback['rate'] / base['rate']:.2f}x, "
          f"{fallback['rate']:,.0f} msg/s (goal >= 5,000); with embed {best['rate']:,.0f} msg/s")


if __name__ == "__main__":
    main()
