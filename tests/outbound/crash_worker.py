"""A dispatcher process for the crash tests: drains the outbox, dying at TRIAGE_TUI_FAULT if asked.

Usage: python -m tests.outbound.crash_worker CONFIG OWNER [CLOCK_OFFSET_S]
TRIAGE_TUI_TEST_KEYLESS=1 is the negative control: every HTTP attempt gets a fresh key, as if the
dispatcher sent without an Idempotency-Key.
"""

from __future__ import annotations

import os
import sys
import time
import uuid

from triage_tui.config import api_key, load_config
from triage_tui.nylas.gateway import Gateway
from triage_tui.outbound.dispatcher import dispatch_once
from triage_tui.store.db import open_database


class KeylessGateway:
    """Negative control only: forwards sends with a new key each time (no provider-side dedupe)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.config = gateway.config

    def send_reply(self, reply, *, idempotency_key, custom_headers=()):
        return self.gateway.send_reply(reply, idempotency_key=str(uuid.uuid4()), custom_headers=custom_headers)


def main() -> int:
    config_path, owner = sys.argv[1], sys.argv[2]
    offset = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    config = load_config(config_path)
    open_database(config.database)
    gateway = Gateway(config.nylas, api_key())
    if os.environ.get("TRIAGE_TUI_TEST_KEYLESS"):
        gateway = KeylessGateway(gateway)
    while True:
        report = dispatch_once(config, gateway, owner=owner, now=time.time() + offset)
        if report.errors:
            print("\n".join(report.errors), file=sys.stderr)
        if report.claimed == 0:
            return 0


if __name__ == "__main__":
    sys.exit(main())
