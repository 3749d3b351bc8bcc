"""The config: every documented key parses, broken files give one line naming key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage_tui.config import (
    Config,
    ConfigError,
    api_key,
    config_path,
    load_config,
    parse_config,
    webhook_secrets,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def test_the_example_documents_a_valid_config():
    config = parse_config(EXAMPLE.read_text())
    assert config.environment == "test"
    assert config.grant_ids == ["sandbox-grant-0001"]
    assert config.inbox("sandbox-grant-0001").policy_id == "pol-sandbox"
    assert config.inbox("someone-else") is None


def test_every_key_of_the_models_is_documented_in_the_example():
    text = EXAMPLE.read_text()

    def keys(model, prefix=""):
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, Config.__mro__[1]):
                yield from keys(annotation, f"{prefix}{name}.")
            else:
                yield name

    missing = [key for key in keys(Config) if key not in text]
    assert missing == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[worker]\npage_limit = 500\n", "<config>:2: worker.page_limit: Input should be less than or equal to 200"),
        ('environment = "staging"\n', "<config>:1: environment: Input should be 'test' or 'production'"),
        ("[nylas]\napi_uri = \"https://api.us.nylas.com/v3\"\n", "<config>:2: nylas.api_uri"),
        ("[database]\nurll = \"x\"\n", "<config>:2: database.urll: Extra inputs are not permitted"),
        ("tenant_id = \n", "<config>: not valid TOML"),
    ],
)
def test_a_broken_file_names_the_key_and_line(text, expected):
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert str(caught.value).startswith(expected)


def test_lookup_order_is_flag_then_env_then_user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIAGE_TUI_CONFIG", str(tmp_path / "env.toml"))
    assert config_path(tmp_path / "flag.toml") == tmp_path / "flag.toml"
    assert config_path() == tmp_path / "env.toml"
    monkeypatch.delenv("TRIAGE_TUI_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "triage-tui" / "config.toml"


def test_a_missing_default_file_means_defaults_but_a_named_one_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv("TRIAGE_TUI_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load_config() == Config()
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_secrets_come_only_from_the_environment(monkeypatch):
    monkeypatch.setenv("NYLAS_API_KEY", "k-123")
    monkeypatch.setenv("NYLAS_WEBHOOK_SECRET", "old, new ,")
    assert api_key() == "k-123"
    assert webhook_secrets() == ["old", "new"]
    with pytest.raises(ConfigError, match="api_key: Extra inputs are not permitted"):
        parse_config('[nylas]\napi_key = "k"\n')
