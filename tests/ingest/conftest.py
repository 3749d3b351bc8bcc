"""Helpers for the ingest tests: a config pointing at a sandbox and a database, a real classifier."""

from __future__ import annotations

import pytest

from triage_tui.classify.chain import build_classifier
from triage_tui.config import ClassifierConfig, Config, DatabaseConfig, InboxConfig, NylasConfig, WorkerConfig
from triage_tui.nylas.gateway import Gateway


@pytest.fixture
def ingest_config(db_url):
    """make(sandbox, **worker_settings) -> a Config for the sandbox's grants and the test database."""

    def make(sandbox, **worker) -> Config:
        return Config(
            tenant_id="acme", environment="test",
            nylas=NylasConfig(api_uri=sandbox.api_uri, max_requests_per_s=1000, max_retries=2,
                              max_backoff_s=0.2, timeout_s=10),
            inboxes=[
                InboxConfig(grant_id=g, email=sandbox.sandbox.grants[g]["email"], workspace_id="ws-1",
                            policy_id="pol-1")
                for g in sandbox.grant_ids
            ],
            database=DatabaseConfig(url=db_url),
            worker=WorkerConfig(**{"poll_interval_s": 0.2, **worker}),
            classifier=ClassifierConfig(chain=["rules"]),
        )

    return make


@pytest.fixture
def rules_classifier():
    """The real rules classifier from the bundled ruleset."""
    return build_classifier(ClassifierConfig(chain=["rules"]))


def gateway_for(config: Config, sandbox) -> Gateway:
    """A gateway on the sandbox with the sandbox key."""
    return Gateway(config.nylas, sandbox.api_key)
