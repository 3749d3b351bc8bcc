"""A worker SIGKILLed while holding claimed webhook events loses nothing: its claims come back when the lease ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from peewee import fn

from tests.ingest.conftest import gateway_for
from triage_tui.ingest.worker import CycleReport, Worker
from triage_tui.store.models import AuditRow, MessageRow, SuggestionRow, WebhookEventRow
from triage_tui.store.webhook_events import DONE, PROCESSING, claim_events, record_events, release_events

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 60
BATCH = 20
LEASE_S = 2


def write_config(path: Path, sandbox, db_url: str) -> Path:
    path.write_text(f"""
tenant_id = "acme"
environment = "test"
[nylas]
api_uri = "{sandbox.api_uri}"
max_requests_per_s = 1000
max_retries = 2
max_backoff_s = 0.2
[[inboxes]]
grant_id = "{sandbox.grant_id}"
email = "{sandbox.email}"
workspace_id = "ws-1"
policy_id = "pol-1"
[database]
url = "{db_url}"
[worker]
lease_s = {LEASE_S}
[classifier]
chain = ["rules"]
""")
    return path


def status_counts() -> dict[str, int]:
    query = WebhookEventRow.select(WebhookEventRow.status, fn.COUNT(WebhookEventRow.id)).group_by(
        WebhookEventRow.status)
    return dict(query.tuples())


def test_killed_worker_mid_batch_loses_nothing_and_processes_nothing_twice(
        db, db_url, tmp_path, make_sandbox, ingest_config, rules_classifier):
    sandbox = make_sandbox(messages=MESSAGES, faults={"latency_ms": 40})
    truth = sorted(sandbox.truth())
    record_events([dict(event_id=f"ev-{m}", grant_id=sandbox.grant_id, message_id=m,
                        trigger="message.created", raw=b"{}") for m in truth])
    config_path = write_config(tmp_path / "config.toml", sandbox, db_url)
    env = {**os.environ, "NYLAS_API_KEY": sandbox.api_key, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "tests.team.drain_worker", str(config_path), str(BATCH)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            counts = status_counts()
            if counts.get(DONE, 0) >= BATCH and counts.get(PROCESSING, 0) > 0:
                break
            time.sleep(0.02)
        assert process.poll() is None, process.stderr.read().decode()
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    stranded = {r.id for r in WebhookEventRow.select().where(WebhookEventRow.status == PROCESSING)}
    assert stranded, "the worker must die holding claims"

    # while the dead worker's lease runs, nobody else takes its claims
    early = claim_events(1000, lease_s=60)
    assert not stranded & {e.row_id for e in early}
    release_events([e.row_id for e in early])

    time.sleep(LEASE_S + 0.2)
    survivor = Worker(ingest_config(sandbox, lease_s=LEASE_S), gateway_for(ingest_config(sandbox), sandbox),
                      rules_classifier)
    for _ in range(20):
        if survivor.drain(CycleReport(), limit=BATCH) == 0:
            break
    assert status_counts() == {DONE: MESSAGES}
    stored = [r.message_id for r in MessageRow.select(MessageRow.message_id)]
    assert sorted(stored) == truth, f"lost: {len(set(truth) - set(stored))}"
    most = (SuggestionRow.select(fn.COUNT(SuggestionRow.id)).group_by(SuggestionRow.message)
            .order_by(fn.COUNT(SuggestionRow.id).desc()).limit(1).scalar())
    assert most == 1
    assert AuditRow.select().where(AuditRow.action == "ingest.stored").count() == MESSAGES
