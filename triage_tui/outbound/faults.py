"""Named crash points on the send path, for the crash tests: TRIAGE_TUI_FAULT=point[:probability]."""

from __future__ import annotations

import os
import random
import signal

FAULT_ENV = "TRIAGE_TUI_FAULT"
POINTS = ("after_claim", "after_send_started", "after_http", "after_record")


def fault_point(name: str) -> None:
    """SIGKILL this process at the named point when the environment asks for it (tests only)."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    point, _, probability = spec.partition(":")
    if point == name and random.random() < float(probability or 1.0):
        os.kill(os.getpid(), signal.SIGKILL)
