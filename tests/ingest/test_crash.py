"""Crash test: a worker process SIGKILLed at random points while ingesting the seeded mailbox."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("TRIAGE_TUI_CRASH_KILLS", "5"))


def write_config(path: Path, sandbox, db_path: Path) -> Path:
    path.write_text(f"""
tenant_id = "acme"
environment = "test"
[nylas]
api_uri = "{sandbox.api_uri}"
max_requests_per_s = 500
max_retries = 2
max_backoff_s = 0.2
[[inboxes]]
grant_id = "{sandbox.grant_id}"
email = "{sandbox.email}"
workspace_id = "ws-1"
policy_id = "pol-1"
[database]
url = "sqlite:///{db_path}"
[worker]
page_limit = 20
max_pages_per_poll = 3
[classifier]
chain = ["rules"]
""")
    return path


def run_worker(config: Path, sandbox, kill_after: float | None) -> tuple[bool, subprocess.CompletedProcess | None]:
    """Run `worker --once`; SIGKILL it after `kill_after` seconds. Returns (killed, finished process)."""
    env = {**os.environ, "NYLAS_API_KEY": sandbox.api_key, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "triage_tui.cli", "--config", str(config), "worker", "--once"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if kill_after is not None:
        try:
            process.wait(kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True, None
    out, err = process.communicate(timeout=120)
    return False, subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_sigkill_at_random_points_loses_and_doubles_nothing(tmp_path, make_sandbox):
    sandbox = make_sandbox(messages=200, faults={"latency_ms": 15})
    db_path = tmp_path / "crash.db"
    config = write_config(tmp_path / "config.toml", sandbox, db_path)
    rng = random.Random(1234)
    killed = 0
    for _ in range(KILLS):
        was_killed, done = run_worker(config, sandbox, rng.uniform(0.8, 3.0))
        killed += was_killed
        if done is not None:
            assert done.returncode == 0, done.stderr.decode()
    _, final = run_worker(config, sandbox, None)
    assert final.returncode == 0, final.stderr.decode()
    assert killed >= 1
    truth = set(sandbox.truth())
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = [row[0] for row in conn.execute("SELECT message_id FROM messages")]
        most_suggestions = conn.execute(
            "SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM suggestions GROUP BY message_id)"
        ).fetchone()[0]
        bodies = conn.execute("SELECT COUNT(*) FROM message_bodies").fetchone()[0]
    assert set(stored) == truth, f"lost: {len(truth - set(stored))}"
    assert len(stored) == len(set(stored)) == len(truth) == bodies
    assert most_suggestions <= 1
