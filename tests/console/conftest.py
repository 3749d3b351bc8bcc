"""Console fixtures: a seeded store and an app factory with a fixed clock."""

from __future__ import annotations

import pytest

from tests.console.helpers import fixed_clock, make_config, seed
from triage_tui.console.app import make_app


@pytest.fixture
def config(db_url, db):
    """A config on the test database."""
    return make_config(db_url)


@pytest.fixture
def seeded(db):
    """Twelve ordinary messages and the rich one."""
    seed(12)
    return db


@pytest.fixture
def app_factory(config, tmp_path):
    """Build the console exactly as the CLI does, with a fixed clock and only the bundled themes."""
    from triage_tui.console.themes import bundled_theme_dir

    def build(**kwargs):
        kwargs.setdefault("clock", fixed_clock)
        kwargs.setdefault("theme_dirs", [bundled_theme_dir()])
        return make_app(kwargs.pop("config", config), open_store=False, **kwargs)

    return build
