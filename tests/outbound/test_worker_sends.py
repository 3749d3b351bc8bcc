"""A headless `triage-tui worker` sends what people approved, like a console's in-process worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.outbound.test_dispatch import approved
from triage_tui.store.db import is_sqlite

ROOT = Path(__file__).resolve().parents[2]


def test_a_running_worker_process_dispatches_an_approved_reply_once(outbound, db, db_url, tmp_path):
    config, _gateway, sandbox = outbound
    entry = approved(config, sandbox, subject="worker sends")
    path = tmp_path / "config.toml"
    path.write_text(
        f'tenant_id = "acme"\nenvironment = "test"\n[nylas]\napi_uri = "{sandbox.api_uri}"\n'
        f'[[inboxes]]\ngrant_id = "{sandbox.grant_id}"\nemail = "{sandbox.email}"\n'
        f'[database]\nurl = "{db_url}"\n[worker]\npoll_interval_s = 0.5\n[classifier]\nchain = ["rules"]\n'
    )
    if is_sqlite(db):
        db.close()
    env = {**os.environ, "NYLAS_API_KEY": sandbox.api_key, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "triage_tui.cli", "--config", str(path), "worker"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not sandbox.sent():
            time.sleep(0.2)
        time.sleep(1.0)  # a few more cycles: nothing may go twice
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    sent = [m for m in sandbox.sent() if m["subject"] == "Re: worker sends"]
    assert len(sent) == 1, process.stderr.read().decode()
    assert entry.command_result_id
