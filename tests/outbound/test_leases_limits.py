"""Leases, fencing, the reaper and the claim-time limits, against the sandbox over real HTTP."""

import time

from triage_tui.domain import Address, Reply
from triage_tui.outbound.approval import approve_reply
from triage_tui.outbound.claims import begin_send, claim_next, finish, reap
from triage_tui.outbound.dispatcher import dispatch_once, outbound_headers, _reply
from triage_tui.store.models import OutboxRow
from triage_tui.store.outbox import get_entry
from tests.outbound.helpers import deliver_and_store, make_config


def approve(config, sandbox, subject="Help", sender="alice@customer.example", kind="reply", mid=None, **store):
    mid = mid or deliver_and_store(sandbox, subject=subject, sender=sender, **store)
    reply = Reply(grant_id=sandbox.grant_id, reply_to_message_id=mid, to=[Address(email=sender)],
                  subject=f"Re: {subject}", body="ok")
    return approve_reply(reply, actor="dana", config=config, message_id=mid, grant_id=sandbox.grant_id,
                         kind=kind)


def test_crash_after_send_is_retried_with_the_same_key_and_delivers_once(outbound):
    config, gateway, sandbox = outbound
    entry = approve(config, sandbox)
    now = time.time()
    claim, _ = claim_next(config, "crashed-worker", now)
    assert begin_send(claim, now, config.outbound.lease_s) == "started"
    gateway.send_reply(_reply(claim), idempotency_key=entry.command_result_id, custom_headers=outbound_headers(claim))
    # the worker dies here: the provider has the mail, the store still says "sending"
    later = now + config.outbound.lease_s + 1
    report = dispatch_once(config, gateway, owner="w2", now=later)
    assert report.reaped == 1 and report.sent == 1
    assert len(sandbox.sent()) == 1
    assert get_entry(entry.command_result_id).state == "sent"


def test_unknown_outcome_past_the_window_goes_to_a_human(outbound):
    config, gateway, sandbox = outbound
    entry = approve(config, sandbox)
    now = time.time()
    claim, _ = claim_next(config, "crashed-worker", now)
    begin_send(claim, now, config.outbound.lease_s)
    report = dispatch_once(config, gateway, owner="w2", now=now + 61 * 60)
    assert report.needs_reconciliation == 1 and report.sent == 0 and sandbox.sent() == []
    assert get_entry(entry.command_result_id).state == "needs_reconciliation"
    assert dispatch_once(config, gateway, owner="w3", now=now + 62 * 60).claimed == 0


def test_a_superseded_worker_cannot_record_its_result(outbound):
    config, gateway, sandbox = outbound
    entry = approve(config, sandbox)
    now = time.time()
    slow, _ = claim_next(config, "slow-worker", now)
    assert begin_send(slow, now, config.outbound.lease_s) == "started"
    later = now + config.outbound.lease_s + 1
    assert dispatch_once(config, gateway, owner="fast-worker", now=later).sent == 1
    # the slow worker's HTTP call finally returns: same key, so the provider replays, and fencing refuses it
    result = gateway.send_reply(_reply(slow), idempotency_key=entry.command_result_id,
                                custom_headers=outbound_headers(slow))
    assert result.idempotent_replay
    assert finish(slow, later + 1, "outbox.sent", state="sent", sent_message_id="stale") is False
    row = OutboxRow.get()
    assert row.sent_message_id != "stale" and row.state == "sent" and len(sandbox.sent()) == 1


def test_reaper_returns_an_unstarted_claim_to_the_queue(outbound):
    config, gateway, sandbox = outbound
    approve(config, sandbox)
    now = time.time()
    claim_next(config, "died-after-claim", now)
    assert reap(config, now + config.outbound.lease_s + 1) == (1, 0)
    assert dispatch_once(config, gateway, owner="w2", now=now + config.outbound.lease_s + 2).sent == 1


def test_per_thread_and_per_recipient_limits_break_loops(outbound, db_url):
    _, gateway, sandbox = outbound
    config = make_config(db_url, api_uri=sandbox.api_uri, grant_id=sandbox.grant_id, email=sandbox.email,
                         per_recipient_per_hour=2, per_thread_per_hour=10)
    for i in range(4):
        approve(config, sandbox, subject=f"loop {i}", sender="bot@looper.example")
    now = time.time()
    report = dispatch_once(config, gateway, owner="w1", now=now)
    assert report.sent == 2 and len(sandbox.sent()) == 2
    waiting = OutboxRow.select().where(OutboxRow.state == "retry")
    assert waiting.count() == 2 and all("loop breaker" in row.last_error for row in waiting)
    assert dispatch_once(config, gateway, owner="w1", now=now + 1800).sent == 0
    assert dispatch_once(config, gateway, owner="w1", now=now + 3601).sent == 2


def test_thread_limit_and_daily_cap(outbound, db_url):
    _, gateway, sandbox = outbound
    config = make_config(db_url, api_uri=sandbox.api_uri, grant_id=sandbox.grant_id, email=sandbox.email,
                         per_thread_per_hour=1, daily_cap_per_grant=3)
    mid = deliver_and_store(sandbox, subject="thread", sender="a@one.example")
    approve(config, sandbox, mid=mid, sender="a@one.example", subject="thread")
    approve(config, sandbox, mid=mid, sender="a@one.example", subject="thread")
    for i in range(3):
        approve(config, sandbox, subject=f"s{i}", sender=f"p{i}@two.example")
    report = dispatch_once(config, gateway, owner="w1")
    assert report.sent == 3 and len(sandbox.sent()) == 3
    reasons = sorted(row.last_error.split(" ")[0] for row in OutboxRow.select().where(OutboxRow.state == "retry"))
    assert len(reasons) == 2
    assert any("daily cap" in row.last_error for row in OutboxRow.select().where(OutboxRow.state == "retry"))


def test_one_acknowledgement_per_sender_per_week(outbound):
    config, gateway, sandbox = outbound
    first = approve(config, sandbox, subject="a", sender="flood@customer.example", kind="acknowledgement")
    for i in range(3):
        approve(config, sandbox, subject=f"b{i}", sender="flood@customer.example", kind="acknowledgement")
    dispatch_once(config, gateway, owner="w1")
    assert len(sandbox.sent()) == 1 and get_entry(first.command_result_id).state == "sent"
    refused = OutboxRow.select().where(OutboxRow.state == "refused")
    assert refused.count() == 3 and all("RFC 3834" in row.last_error for row in refused)
    headers = sandbox.admin("GET", f"/v3/grants/{sandbox.grant_id}/messages/"
                            f"{get_entry(first.command_result_id).sent_message_id}?fields=include_headers")
    names = {h["name"].lower(): h["value"] for h in headers.json()["data"]["headers"]}
    assert names["auto-submitted"] == "auto-replied"
