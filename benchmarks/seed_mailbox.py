"""Seeded-mailbox generation and parsing speed, compared with the stdlib email writer in the same run.

Run by hand from the repo root: python -m benchmarks.seed_mailbox [--messages 300 100000] [--parse 5000]
Prints, per mailbox size, the generation time and mails per second; parse_mime's mails per second over
the first --parse mails; and a baseline: building the same number of one-part mails with
email.message.EmailMessage + as_bytes() (what a naive generator would do), with the ratio.
"""

from __future__ import annotations

import argparse
import time
from email.message import EmailMessage

from triage_tui.sandbox.mime import parse_mime
from triage_tui.sandbox.seed import generate_mailbox

AGENT = "support@agent.example"
NOW = 1_795_745_760


def stdlib_baseline(count: int) -> float:
    """Seconds to build `count` trivial single-part mails with the stdlib's EmailMessage."""
    started = time.perf_counter()
    for index in range(count):
        message = EmailMessage()
        message["From"] = f"Customer {index} <c{index}@acme.example>"
        message["To"] = AGENT
        message["Subject"] = f"Invoice question {index}"
        message["Message-ID"] = f"<{index}@acme.example>"
        message.set_content("Hello,\n\nour invoice looks wrong, can you check?\n\nThanks")
        message.as_bytes()
    return time.perf_counter() - started


def main() -> None:
    """Print generation and parse figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[300, 100_000])
    parser.add_argument("--parse", type=int, default=5_000, help="how many generated mails to parse")
    args = parser.parse_args()
    largest = []
    for count in args.messages:
        started, cpu_started = time.perf_counter(), time.process_time()
        mails = generate_mailbox(7, count, agent_email=AGENT, now=NOW)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        size = sum(len(mail.raw) for mail in mails) / 1e6
        print(f"generate {count:>7} mails: {elapsed:7.2f} s wall ({cpu:.2f} s CPU)  "
              f"{count / elapsed:9.0f} mails/s  {size:8.1f} MB")
        largest = mails if len(mails) > len(largest) else largest
    sample = [mail.raw for mail in largest[: args.parse]]
    started = time.perf_counter()
    for raw in sample:
        parse_mime(raw)
    parse_s = time.perf_counter() - started
    print(f"parse_mime {len(sample):>7} mails: {parse_s:7.2f} s  {len(sample) / parse_s:9.0f} mails/s")
    baseline_count = min(len(largest), 5_000)
    baseline_s = stdlib_baseline(baseline_count)
    started = time.perf_counter()
    ours = generate_mailbox(7, baseline_count, agent_email=AGENT, now=NOW)
    ours_s = time.perf_counter() - started
    print(f"baseline stdlib EmailMessage {baseline_count} one-part mails: {baseline_s:.2f} s; "
          f"generator {len(ours)} mails: {ours_s:.2f} s; ratio generator/baseline = {ours_s / baseline_s:.2f}")


if __name__ == "__main__":
    main()
