"""Shared fixtures: each area keeps its own in tests/fixtures/ and registers it here."""

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.store",
]
