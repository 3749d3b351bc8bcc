"""The command line: help, version, and one clear line for a broken config."""

from __future__ import annotations

import subprocess
import sys

from triage_tui import __version__


def run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "triage_tui.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    assert "sandbox" in result.stdout
    assert "--config" in result.stdout


def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_a_broken_config_is_one_line_and_exit_2(tmp_path):
    broken = tmp_path / "config.toml"
    broken.write_text("[worker]\nmax_attempts = \"many\"\n")
    result = run("--config", str(broken), "status")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"triage-tui: {broken}:2: worker.max_attempts: Input should be a valid integer, unable to parse string as an integer"
    ]


def test_config_may_also_follow_the_command_and_its_subcommand(tmp_path):
    broken = tmp_path / "config.toml"
    broken.write_text("[worker]\nmax_attempts = \"many\"\n")
    for args in (("status", "--config", str(broken)), ("tickets", "list", "--config", str(broken))):
        result = run(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.strip().startswith(f"triage-tui: {broken}:2: worker.max_attempts"), args
