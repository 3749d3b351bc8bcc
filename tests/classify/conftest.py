"""Fixtures for the classifier tests."""

from __future__ import annotations

import pytest

from tests.classify.fake_llm import FakeLLM


@pytest.fixture(scope="session")
def fake_llm_server():
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture
def fake_llm(fake_llm_server: FakeLLM) -> FakeLLM:
    fake_llm_server.mode = "naive"
    fake_llm_server.requests.clear()
    fake_llm_server.headers.clear()
    return fake_llm_server
