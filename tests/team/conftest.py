"""Team-mode fixtures: two consoles on one store, and a PostgreSQL-only marker."""

from __future__ import annotations

import pytest

from tests.console.helpers import make_config, seed
from tests.ingest.conftest import ingest_config, rules_classifier  # noqa: F401 (shared fixtures)
from triage_tui.console.app import make_app, system_clock
from triage_tui.console.themes import bundled_theme_dir


@pytest.fixture
def team_store(db, db_url):
    """A seeded store (twelve messages and the rich one) shared by every console in the test."""
    seed(12)
    return db_url


@pytest.fixture
def console_for(team_store):
    """console_for(operator) -> a console on the shared store, on the real clock (leases expire in real time)."""

    def build(operator: str, **kwargs):
        kwargs.setdefault("poll_interval_s", 0.5)
        return make_app(make_config(team_store), open_store=False, operator=operator, clock=system_clock,
                        theme_dirs=[bundled_theme_dir()], **kwargs)

    return build


@pytest.fixture
def postgres_only(db_url):
    """Skip on SQLite: the behaviour under test needs PostgreSQL."""
    if not db_url.startswith("postgres"):
        pytest.skip("PostgreSQL only (set TRIAGE_TUI_TEST_PG_URL)")
    return db_url
