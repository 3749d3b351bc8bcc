"""Production-shaped: `worker --metrics-port` processes and a `webhook` receiver on the sandbox.

Two workers on PostgreSQL (the team setup: several workers on one host), one on SQLite.

Signed, duplicate, forged and oversized webhooks, a poison message, a send that fails once: then
every /metrics page is scraped, each worker's counters are its own (per-process ports) and their
sums match the store's own counts; every process's output is scanned for the secrets and message
bodies it was given.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from peewee import fn

from tests.ops.helpers import free_port, get, scrape, total, value, wait_for
from tests.outbound.helpers import deliver_and_store, make_config
from triage_tui.domain import Address, Reply
from triage_tui.ingest.receiver import PATH
from triage_tui.outbound.approval import approve_reply
from triage_tui.store.db import is_sqlite
from triage_tui.store.models import AuditRow, MessageRow, OutboxRow, WebhookEventRow

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "nylas-key-9f3c2b7d41e8a6"
SECRET = "whsec-5d8e1a7c3b9f24"
DB_PASSWORD = "dbpass-7c1e9a4f2d"
BODY = "BODYMARKER-4e7a1c the customer's private words"
REPLY_BODY = "REPLYMARKER-8b2d6f our private answer"
MAX_BODY = 4096


def _signed(event_id: str, grant_id: str, message_id: str, secret: str = SECRET) -> tuple[bytes, str]:
    body = json.dumps({
        "specversion": "1.0", "type": "message.created", "id": event_id, "time": int(time.time()),
        "source": "/nylas/emails/realtime",
        "data": {"application_id": "app", "grant_id": grant_id, "object": {"id": message_id, "grant_id": grant_id}},
    }).encode()
    return body, hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _config_file(tmp_path, sandbox, db_url: str, receiver_port: int) -> Path:
    if db_url.startswith("postgres"):  # trust auth ignores it; the logs must not show it either
        db_url = db_url.replace("://triage@", f"://triage:{DB_PASSWORD}@")
    path = tmp_path / "config.toml"
    path.write_text(
        f'tenant_id = "acme"\nenvironment = "test"\n'
        f'[nylas]\napi_uri = "{sandbox.api_uri}"\nmax_retries = 0\nmax_requests_per_s = 1000\n'
        f'[[inboxes]]\ngrant_id = "{sandbox.grant_id}"\nemail = "{sandbox.email}"\n'
        f'[database]\nurl = "{db_url}"\n[worker]\npoll_interval_s = 60\nmax_attempts = 2\n'
        f'[webhook]\nport = {receiver_port}\nmax_body_bytes = {MAX_BODY}\n[classifier]\nchain = ["rules"]\n')
    return path


class Service:
    """A `triage-tui` command in its own process, its output in files (a full pipe would stall it)."""

    def __init__(self, config: Path, name: str, *args: str, env: dict) -> None:
        self.out, self.err = config.parent / f"{name}.out", config.parent / f"{name}.err"
        command = [sys.executable, "-m", "triage_tui.cli", "--config", str(config), "--log-format", "json",
                   "--log-level", "debug", *args]
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
                                            stdout=out, stderr=err)

    def stop(self) -> tuple[str, str]:
        """SIGTERM, wait, and return (stdout, stderr)."""
        self.process.terminate()
        self.process.wait(timeout=20)
        return self.out.read_text(), self.err.read_text()


def test_metrics_of_a_worker_and_a_receiver_match_the_store(db, db_url, make_sandbox, tmp_path):
    sandbox = make_sandbox(messages=12, api_key=API_KEY)
    marked = sandbox.deliver(subject="Printer jam", body=BODY, **{"from": "ana@customer.example"})
    config = make_config(db_url, api_uri=sandbox.api_uri, grant_id=sandbox.grant_id, email=sandbox.email)
    original = deliver_and_store(sandbox, subject="Refund please", sender="bo@customer.example")  # not ingested
    entry = approve_reply(Reply(grant_id=sandbox.grant_id, reply_to_message_id=original, subject="Re: Refund please",
                                to=[Address(email="bo@customer.example")], body=REPLY_BODY),
                          actor="dana", config=config, message_id=original, grant_id=sandbox.grant_id)
    sandbox.set_faults(script=[
        {"method": "GET", "path": "/messages/poison-1", "status": 400, "count": 50},
        {"method": "POST", "path": "/messages/send", "status": 503, "retry_after": 0.2, "count": 1},
    ])
    rx_port = free_port()
    ports = [free_port() for _ in range(1 if is_sqlite(db) else 2)]
    path = _config_file(tmp_path, sandbox, db_url, rx_port)
    if is_sqlite(db):
        db.close()
    secrets = {"NYLAS_API_KEY": API_KEY, "NYLAS_WEBHOOK_SECRET": SECRET, "PGPASSWORD": DB_PASSWORD}
    receiver = Service(path, "receiver", "webhook", env=secrets)
    workers = [Service(path, f"worker{i}", "worker", "--metrics-port", str(port), env=secrets)
               for i, port in enumerate(ports)]
    rx, wks = f"http://127.0.0.1:{rx_port}", [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base in (rx, *wks):
            wait_for(lambda: (r := get(f"{base}/readyz")) is not None and r.status_code == 200, what=f"{base}/readyz")
        alive = [get(f"{base}/healthz").json() for base in wks]
        assert {a["status"] for a in alive} == {"alive"} and len({a["pid"] for a in alive}) == len(wks)
        known = sorted(sandbox.truth())[:6]
        posts = [_signed(f"ev-{i}", sandbox.grant_id, mid) for i, mid in enumerate(known)]
        posts += [_signed("ev-marked", sandbox.grant_id, marked["id"]), _signed("ev-poison", sandbox.grant_id, "poison-1")]
        posts += [posts[0], posts[1]]  # Nylas retries: the same event ids again
        forged = [(_signed("ev-forged-1", sandbox.grant_id, known[0])[0], "0" * 64),
                  _signed("ev-forged-2", sandbox.grant_id, known[0], secret="not-the-secret"),
                  (_signed("ev-forged-3", sandbox.grant_id, known[0])[0], "")]
        with httpx.Client(base_url=rx, trust_env=False, timeout=10) as client:
            codes = [client.post(PATH, content=b, headers={"x-nylas-signature": s}).status_code for b, s in posts]
            codes += [client.post(PATH, content=b, headers={"x-nylas-signature": s}).status_code for b, s in forged]
            big = b"{" + b" " * MAX_BODY + b"}"
            codes.append(client.post(PATH, content=big, headers={"x-nylas-signature": "0" * 64}).status_code)
        assert codes == [200] * 10 + [401] * 3 + [413]

        def settled() -> bool:
            quarantined = MessageRow.select().where(MessageRow.state == "quarantined").count()
            waiting = WebhookEventRow.select().where(WebhookEventRow.status.in_(["pending", "processing"])).count()
            stored = MessageRow.select().where(MessageRow.message_id.in_(list(sandbox.truth()))).count()
            sent = OutboxRow.get(OutboxRow.command_result_id == entry.command_result_id).state == "sent"
            progress[:] = [quarantined, waiting, stored, len(sandbox.truth()), sent]
            return quarantined == 1 and waiting == 0 and stored == len(sandbox.truth()) and sent

        progress: list = []
        wait_for(settled, timeout=40, what=lambda: f"ingest, quarantine and the send to finish: {progress}")
        by_state = dict(MessageRow.select(MessageRow.state, fn.COUNT(MessageRow.id)).group_by(MessageRow.state)
                        .tuples())
        grant = sandbox.grant_id
        ingested = sum(n for state, n in by_state.items() if state != "quarantined") - 1  # `original` was stored by hand

        def summed(pages: list, name: str, **labels) -> float:
            return sum(value(page, name, **labels) for page in pages)

        def absorbed_by_audit() -> int:
            return sum(json.loads(a.detail).get("count", 1) for a in AuditRow.select().where(
                AuditRow.action == "ingest.duplicate"))

        def counted():  # each counter moves just after its commit: wait for the last of them
            pages = [scrape(base) for base in wks]
            done = (summed(pages, "triage_messages_ingested_total", grant_id=grant) >= ingested
                    and summed(pages, "triage_messages_quarantined_total", grant_id=grant) >= 1
                    and summed(pages, "triage_sends_total", kind="reply") >= 1
                    and summed(pages, "triage_messages_duplicates_total", grant_id=grant) >= absorbed_by_audit())
            return pages if done else None

        pages = wait_for(counted, timeout=10, what="the workers' counters")
        absorbed = absorbed_by_audit()  # a later poll may absorb more after the scrape: the counter trails by at most that
        receiver_page = scrape(rx)
        # workers: each process counts its own work; together they match the store's own counts
        assert summed(pages, "triage_messages_ingested_total", grant_id=grant) == ingested > 0
        assert summed(pages, "triage_messages_quarantined_total", grant_id=grant) == by_state["quarantined"] == 1
        assert absorbed >= summed(pages, "triage_messages_duplicates_total", grant_id=grant) >= 7
        failed_sends = AuditRow.select().where(AuditRow.action == "outbox.send_failed").count()
        assert summed(pages, "triage_send_failures_total", kind="reply", outcome="retry") == failed_sends == 1
        assert summed(pages, "triage_sends_total", kind="reply") == 1
        classified = summed(pages, "triage_classifier_latency_seconds_count", classifier="chain")
        suggested = MessageRow.select().where(MessageRow.classification_version != "").count()
        # two workers may both classify a message before one of them stores it (the other absorbs it)
        assert classified == suggested if len(wks) == 1 else classified >= suggested > 0
        # every process reads the same store gauges
        waiting = MessageRow.select().where(MessageRow.state.in_(["new", "needs_human"])).count()
        for page in (*pages, receiver_page):
            assert total(page, "triage_messages_waiting") == waiting > 0
            assert value(page, "triage_outbox_entries", kind="reply", state="sent") == 1
            assert value(page, "triage_stop_switch_on") == 0 and value(page, "triage_store_up") == 1
            assert value(page, "triage_last_poll_age_seconds", grant_id=grant) < 60
            assert 0 <= value(page, "triage_ingest_lag_seconds", grant_id=grant) < float("inf")
        # receiver: outcomes against the stored events and the traffic sent
        events = WebhookEventRow.select().count()
        assert value(receiver_page, "triage_webhook_requests_total", outcome="accepted") == events == 8
        assert value(receiver_page, "triage_webhook_requests_total", outcome="duplicate") == 2
        assert value(receiver_page, "triage_webhook_requests_total", outcome="forged") == 3
        assert value(receiver_page, "triage_webhook_requests_total", outcome="too_large") == 1
    finally:
        outputs = [service.stop() for service in (*workers, receiver)]
    for text in (text for pair in outputs for text in pair):
        for secret in (API_KEY, SECRET, DB_PASSWORD, "BODYMARKER", "REPLYMARKER", "private"):
            assert secret not in text, f"{secret!r} reached the output"
    _check_logs([err for _out, err in outputs[:-1]], outputs[-1][1], entry.command_result_id, grant)


def _check_logs(worker_logs: list[str], receiver_log: str, command_result_id: str, grant: str) -> None:
    lines = [json.loads(line) for log in worker_logs for line in log.splitlines()]  # each line is one JSON event
    assert lines and all({"ts", "level", "logger", "msg"} <= set(line) for line in lines)
    quarantine = [line for line in lines if line["msg"] == "message quarantined"]
    assert [(q["grant_id"], q["message_id"]) for q in quarantine] == [(grant, "poison-1")]
    # two workers may share the send: their logs are read one after the other, so order by time
    sends = sorted((line for line in lines if line["msg"] in ("send failed", "sent")), key=lambda line: line["ts"])
    assert [s["msg"] for s in sends] == ["send failed", "sent"]
    assert all(s["command_result_id"] == command_result_id and s["grant_id"] == grant and s["message_id"]
               for s in sends)
    assert any(line["msg"] == "messages stored" and line["grant_id"] == grant for line in lines)
    assert [json.loads(line)["msg"] for line in receiver_log.splitlines()][0] == "webhook receiver listening"
