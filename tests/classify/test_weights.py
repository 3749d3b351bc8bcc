"""The MiniLM weights as a dependency: fetched from a (fake, local) hub, found, hash-checked, refused."""

from __future__ import annotations

import logging
import os
import shutil

import pytest
from click.testing import CliRunner

from tests.classify.fake_hub import FakeHub
from triage_tui.classify import weights
from triage_tui.classify.chain import build_classifier, classifier_status
from triage_tui.cli import main
from triage_tui.config import ClassifierConfig


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def altered_copy(model_dir, target, name: str):
    """A copy of the model folder (large files linked) with one byte of `name` flipped."""
    target.mkdir()
    for file in weights.FILES:
        if file == name:
            data = bytearray((model_dir / file).read_bytes())
            data[10] ^= 1
            (target / file).write_bytes(bytes(data))
        else:
            os.symlink(model_dir / file, target / file)
    return target


def test_fetch_model_downloads_the_pinned_revision_where_it_is_found(embed_on, tmp_path) -> None:
    dest = weights.fetch_dir()
    assert str(tmp_path / "xdg-data") in str(dest)
    with FakeHub(embed_on, weights.REPO, weights.REVISION) as hub:
        result = run("classify", "fetch-model", "--hub", hub.url)
        assert result.exit_code == 0, result.output
        assert f"/{weights.REPO}/resolve/{weights.REVISION}/model.safetensors" in hub.requests
        for name, (size, digest) in weights.FILES.items():
            assert (dest / name).stat().st_size == size
            assert weights.sha256_of(dest / name) == digest
        assert "sha256 verified" in result.output
        hub.requests.clear()
        again = run("classify", "fetch-model", "--hub", hub.url)
        assert again.exit_code == 0 and hub.requests == []  # intact files are not fetched again
    found = weights.resolve()  # no config needed: the fetched copy comes before packages
    assert found.source == "fetched" and found.directory == dest


def test_an_altered_download_is_refused_and_never_installed(model_dir, tmp_path) -> None:
    dest = tmp_path / "models"
    with FakeHub(model_dir, weights.REPO, weights.REVISION) as hub:
        hub.altered.add("tokenizer.json")
        result = run("classify", "fetch-model", "--hub", hub.url, "--dest", str(dest))
    assert result.exit_code != 0
    error = result.output.strip().splitlines()[-1]
    assert error.startswith("triage-tui: ") and "tokenizer.json has sha256" in error
    assert "not the pinned be50c3628f2b" in error and "Traceback" not in result.output
    assert not (dest / "tokenizer.json").exists() and not (dest / "model.safetensors").exists()
    assert not list(dest.glob("*.part"))


def test_a_missing_file_on_the_hub_is_one_line(model_dir, tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with FakeHub(empty, weights.REPO, weights.REVISION) as hub:
        result = run("classify", "fetch-model", "--hub", hub.url, "--dest", str(tmp_path / "d"))
    assert result.exit_code != 0 and "HTTP 404" in result.output
    unreachable = run("classify", "fetch-model", "--hub", "http://127.0.0.1:9", "--dest",
                      str(tmp_path / "d"))
    assert unreachable.exit_code != 0 and "cannot download" in unreachable.output


def test_an_installed_package_is_found_and_checked(embed_on) -> None:
    found = weights.resolve()
    assert found.source.startswith("package ") and found.directory == embed_on
    status = classifier_status(ClassifierConfig())
    assert status["chain"] == ["embed", "rules"] and "sha256 verified" in status["embed"]


@pytest.mark.parametrize("name", ["model.safetensors", "tokenizer.json", "config.json"])
def test_an_altered_file_falls_back_to_tfidf_with_one_line(embed_on, tmp_path, caplog, name) -> None:
    bad = altered_copy(embed_on, tmp_path / "bad", name)
    config = ClassifierConfig(embed_model=str(bad))
    with caplog.at_level(logging.WARNING):
        chain = build_classifier(config)
    assert [c.name for c in chain.classifiers] == ["learned", "rules"]
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and f"{bad / name} has sha256" in lines[0]
    assert "falling back to TF-IDF" in lines[0]
    assert chain.warnings and "embed unavailable" in chain.describe()


def test_a_missing_folder_falls_back_and_status_says_why(embed_on, tmp_path) -> None:
    missing = tmp_path / "nowhere"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "t.db"}"\n'
                      f'[classifier]\nembed_model = "{missing}"\n')
    result = run("--config", str(config), "status")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("classifier"))
    assert "learned (TF-IDF) -> rules" in line and f"{missing} is not a folder" in line


def test_status_names_the_embed_classifier_when_it_runs(embed_on, tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "t.db"}"\n')
    result = run("--config", str(config), "status")
    assert result.exit_code == 0, result.output
    assert "classifier           embed (MiniLM-L6 + TF-IDF; 48 ruleset examples" in result.output
    assert f"all-MiniLM-L6-v2@{weights.REVISION[:8]}" in result.output


def test_without_the_switch_nothing_changes(model_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TRIAGE_TUI_EMBED", "off")
    chain = build_classifier(ClassifierConfig())
    assert [c.name for c in chain.classifiers] == ["learned", "rules"] and not chain.warnings
    assert classifier_status(ClassifierConfig())["line"].startswith("learned (TF-IDF) -> rules")


def test_copying_the_folder_keeps_it_usable(embed_on, tmp_path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(embed_on, copy)
    assert weights.resolve(str(copy / "model.safetensors")).directory == copy
