"""Shared fixtures: each area keeps its own in tests/fixtures/ and registers it here."""

import os

# The embed classifier (MiniLM weights) is opted into by the tests that exercise it; everywhere
# else the default chain stays the TF-IDF one, in this process and in every child it starts.
os.environ.setdefault("TRIAGE_TUI_EMBED", "off")

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.store",
]
