"""`triage-tui sandbox` as a user runs it: a subprocess that prints where it listens."""

import os
import re
import signal
import subprocess
import sys
import time

import nylas
from click.testing import CliRunner

from triage_tui.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read_until(proc, pattern, timeout=20.0):
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen += line
        if re.search(pattern, seen):
            return seen
    raise AssertionError(f"never printed {pattern!r}; got:\n{seen}")


def test_command_starts_prints_api_uri_and_serves_the_seeded_mailbox():
    proc = subprocess.Popen(
        [sys.executable, "-m", "triage_tui.cli", "sandbox", "--port", "0", "--messages", "40",
         "--api-key", "cli-key", "--grant-id", "cli-grant"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": ROOT})
    try:
        banner = read_until(proc, r"Press Ctrl-C")
        api_uri = re.search(r"api_uri:\s+(http://127\.0\.0\.1:\d+)", banner).group(1)
        assert "grant_id: cli-grant" in banner and "api_key:  cli-key" in banner
        assert "export NYLAS_API_KEY=cli-key" in banner
        client = nylas.Client("cli-key", api_uri=api_uri, timeout=10)
        ids, token = [], None
        while True:
            resp = client.messages.list("cli-grant", query_params={
                "limit": 15, **({"page_token": token} if token else {})})
            ids += [m.id for m in resp.data]
            token = resp.next_cursor
            if not token:
                break
        assert len(ids) == len(set(ids)) == 40
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "sandbox stopped" in out


def test_command_help_and_bad_flags():
    runner = CliRunner()
    help_text = runner.invoke(main, ["sandbox", "--help"]).output
    for flag in ("--host", "--port", "--api-key", "--grant-id", "--email", "--seed", "--messages",
                 "--import", "--latency-ms", "--drip-per-min", "--rate-429", "--id-churn-rate"):
        assert flag in help_text
    bad = runner.invoke(main, ["sandbox", "--html-502-rate", "2"])
    assert bad.exit_code == 2 and "between 0 and 1" in bad.output
    missing = runner.invoke(main, ["sandbox", "--port", "0", "--import", "/no/such/mail"])
    assert missing.exit_code == 1 and "no such file" in missing.output
    dup = runner.invoke(main, ["sandbox", "--grant-id", "x", "--grant-id", "x"])
    assert dup.exit_code == 2


def test_banner_names_skipped_imports(make_sandbox, tmp_path):
    from triage_tui.sandbox.commands import banner

    (tmp_path / "good.eml").write_bytes(b"From: a@b.example\r\nSubject: hi\r\n\r\nbody\r\n")
    (tmp_path / "bad.eml").write_bytes(b"garbage")
    running = make_sandbox(messages=0, import_path=str(tmp_path))
    text = banner(running)
    assert "1 messages" in text and "bad.eml" in text
    assert f'api_uri = "{running.api_uri}"' in text and 'policy_id = "pol-sandbox"' in text
