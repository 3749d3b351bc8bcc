"""message.updated: flags and folders applied in order through the receiver and the worker; Junk and
Trash take a conversation out of the queue and a move back restores it."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time

import nylas
from starlette.testclient import TestClient

from triage_tui.domain import QueueFilter
from triage_tui.ingest.receiver import PATH, build_app
from triage_tui.ingest.worker import CycleReport, Worker
from triage_tui.store.models import AuditRow, ConversationRow, MessageRow
from triage_tui.store.queue import queue_count
from tests.ingest.test_receiver import _serve

from .conftest import gateway_for

SECRET = "updates-secret"


def _setup(make_sandbox, ingest_config, rules_classifier):
    sandbox = make_sandbox(messages=0)
    config = ingest_config(sandbox)
    made = sandbox.deliver(subject="Printer on fire", body="help", **{"from": "ana@customer.example"})
    worker = Worker(config, gateway_for(config, sandbox), rules_classifier)
    worker.cycle()
    assert queue_count(QueueFilter()) == 1
    return sandbox, config, worker, made["id"]


def _drain(worker) -> CycleReport:
    cycle = CycleReport()
    worker.drain(cycle)
    return cycle


def _event(sandbox, message_id: str, number: int, at: int, **state) -> bytes:
    obj = sandbox.admin("GET", f"/v3/grants/{sandbox.grant_id}/messages/{message_id}").json()["data"]
    return json.dumps({"specversion": "1.0", "type": "message.updated", "id": f"upd-{number}", "time": at,
                       "source": "/nylas/emails/realtime",
                       "data": {"grant_id": sandbox.grant_id, "object": {**obj, **state}}}).encode()


def _post(client, body: bytes) -> None:
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert client.post(PATH, content=body, headers={"x-nylas-signature": signature}).status_code == 200


def test_an_out_of_order_storm_converges_to_the_newest_state(db, make_sandbox, ingest_config, rules_classifier):
    sandbox, config, worker, message_id = _setup(make_sandbox, ingest_config, rules_classifier)
    rng = random.Random(13)
    start = int(time.time()) - 100
    states = [dict(folders=[rng.choice(["INBOX", "JUNK", "TRASH"])], unread=rng.random() < 0.5,
                   starred=rng.random() < 0.5) for _ in range(30)]
    states[-1]["folders"] = ["JUNK"]
    bodies = [_event(sandbox, message_id, i, start + i, **state) for i, state in enumerate(states)]
    order = list(range(len(bodies))) + rng.sample(range(len(bodies)), 8)  # at least once: some twice
    rng.shuffle(order)
    client = TestClient(build_app(config, secrets=[SECRET]))
    for chunk in (order[:10], order[10:25], order[25:]):  # several drains: later ones see older events
        for i in chunk:
            _post(client, bodies[i])
        _drain(worker)
    row = MessageRow.get(MessageRow.message_id == message_id)
    newest = states[-1]
    assert (json.loads(row.folder_ids), row.unread, row.starred) == (["JUNK"], newest["unread"], newest["starred"])
    assert row.hidden_in == "junk" and row.mail_version == start + len(states) - 1
    assert ConversationRow.get().state == "junk" and queue_count(QueueFilter()) == 0
    applied = AuditRow.select().where(AuditRow.action == "message.updated")
    assert 1 <= applied.count() <= len(states)
    assert all(json.loads(a.detail)["version"] <= row.mail_version for a in applied)
    # an old event delivered again much later changes nothing
    _post(client, bodies[0].replace(b'"upd-0"', b'"upd-0-late"'))
    _drain(worker)
    assert MessageRow.get(MessageRow.message_id == message_id).folder_ids == row.folder_ids


def test_moves_to_junk_and_back_through_the_sdk_and_live_webhooks(db, make_sandbox, ingest_config,
                                                                    rules_classifier):
    sandbox, config, worker, message_id = _setup(make_sandbox, ingest_config, rules_classifier)
    before = ConversationRow.get().state
    secrets: list[str] = []
    server, thread, port = _serve(build_app(config, secrets=secrets))
    try:
        created = sandbox.admin("POST", "/v3/webhooks", {"trigger_types": ["message.updated"],
                                                         "webhook_url": f"http://127.0.0.1:{port}{PATH}"})
        secrets.append(created.json()["data"]["webhook_secret"])
        client = nylas.Client(sandbox.api_key, api_uri=sandbox.api_uri)
        client.messages.update(sandbox.grant_id, message_id, {"folders": ["JUNK"], "unread": False})
        assert sandbox.wait_webhooks_idle(10)
        assert _drain(worker).updates == 1
        assert ConversationRow.get().state == "junk" and queue_count(QueueFilter()) == 0
        # Same second, other state: the tie is settled by re-reading the message from the API.
        client.messages.update(sandbox.grant_id, message_id, {"folders": ["INBOX"], "starred": True})
        assert sandbox.wait_webhooks_idle(10)
        _drain(worker)
        row = MessageRow.get(MessageRow.message_id == message_id)
        assert (row.hidden_in, row.unread, row.starred) == ("", False, True)
        assert ConversationRow.get().state == before and queue_count(QueueFilter()) == 1
        changes = [json.loads(a.detail)["changes"] for a in
                   AuditRow.select().where(AuditRow.action == "message.updated").order_by(AuditRow.id)]
        assert changes[0]["hidden_in"] == ["", "junk"] and changes[-1]["hidden_in"] == ["junk", ""]
    finally:
        server.should_exit = True
        thread.join(5)


def test_two_updates_in_the_same_second_are_settled_by_the_api(db, make_sandbox, ingest_config, rules_classifier):
    sandbox, config, worker, message_id = _setup(make_sandbox, ingest_config, rules_classifier)
    at = int(time.time())
    trashed = _event(sandbox, message_id, 1, at, folders=["TRASH"], starred=False)
    client = nylas.Client(sandbox.api_key, api_uri=sandbox.api_uri)
    client.messages.update(sandbox.grant_id, message_id, {"folders": ["INBOX"], "starred": True})
    current = _event(sandbox, message_id, 2, at)  # the mailbox's real, later state, reported in the same second
    app = TestClient(build_app(config, secrets=[SECRET]))
    for body in (trashed, current):  # the tie cannot be told apart by time: drained one at a time
        _post(app, body)
        _drain(worker)
    row = MessageRow.get(MessageRow.message_id == message_id)
    assert (row.hidden_in, row.starred, row.mail_version) == ("", True, at)
    assert queue_count(QueueFilter()) == 1
    first, second = [json.loads(a.detail) for a in AuditRow.select().where(
        AuditRow.action == "message.updated").order_by(AuditRow.id)]
    assert first["changes"]["hidden_in"] == ["", "trash"] and not first["fetched"]
    assert second["changes"]["hidden_in"] == ["trash", ""] and second["fetched"]
