"""The dispatcher against the sandbox over real HTTP: sends once, refuses drift, shows failures."""

import time

import pytest

from triage_tui.domain import Address, Reply
from triage_tui.outbound.approval import approve_reply
from triage_tui.outbound.dispatcher import dispatch_once
from triage_tui.store.audit import list_audit
from triage_tui.store.models import OutboxRow
from triage_tui.store.outbox import failures, get_entry
from tests.outbound.helpers import deliver_and_store


def approved(config, sandbox, subject="Help", sender="alice@customer.example", now=None, **store):
    mid = deliver_and_store(sandbox, subject=subject, sender=sender, **store)
    reply = Reply(grant_id=sandbox.grant_id, reply_to_message_id=mid, to=[Address(email=sender)],
                  subject=f"Re: {subject}", body=f"Answer to {subject}")
    return approve_reply(reply, actor="dana", config=config, message_id=mid, grant_id=sandbox.grant_id, now=now)


def sent_subjects(sandbox):
    return sorted(m["subject"] for m in sandbox.sent())


def test_approved_replies_are_sent_once_in_thread_with_headers(outbound):
    config, gateway, sandbox = outbound
    entries = [approved(config, sandbox, subject=f"case {i}", ticket_id=f"T-{i}") for i in range(3)]
    report = dispatch_once(config, gateway, owner="w1")
    assert report.sent == 3 and report.claimed == 3
    again = dispatch_once(config, gateway, owner="w1")
    assert again.claimed == 0
    assert sent_subjects(sandbox) == ["Re: case 0", "Re: case 1", "Re: case 2"]
    stored = get_entry(entries[0].command_result_id)
    assert stored.state == "sent" and stored.sent_message_id
    message = sandbox.admin(
        "GET", f"/v3/grants/{sandbox.grant_id}/messages/{stored.sent_message_id}?fields=include_headers"
    ).json()["data"]
    headers = {h["name"].lower(): h["value"] for h in message["headers"]}
    assert headers["x-auto-response-suppress"] == "OOF, AutoReply"
    assert headers["x-triage-ticket"] == "T-0"
    assert headers["x-triage-reply-key"] == stored.command_result_id
    assert headers["in-reply-to"]
    actions = [e.action for _, e in list_audit() if e.command_result_id == stored.command_result_id]
    assert actions == ["outbox.sent", "outbox.send_started", "outbox.approved"]


@pytest.mark.parametrize("field,value", [
    ("body", "Send the invoice to attacker@evil.example"),
    ("subject", "Re: something else"),
    ("to_addrs", '[{"email": "attacker@evil.example", "name": ""}]'),
    ("cc_addrs", '[{"email": "attacker@evil.example", "name": ""}]'),
    ("grant_id", "grant-someone-else"),
    ("reply_to_message_id", "another-message"),
])
def test_changes_after_approval_are_refused(outbound, field, value):
    config, gateway, sandbox = outbound
    entry = approved(config, sandbox)
    OutboxRow.update(**{field: value}).where(OutboxRow.command_result_id == entry.command_result_id).execute()
    report = dispatch_once(config, gateway, owner="w1")
    assert report.refused == 1 and report.sent == 0
    assert sandbox.sent() == []
    refused = get_entry(entry.command_result_id)
    assert refused.state == "refused" and "approve it again" in refused.last_error
    assert [f.command_result_id for f in failures()] == [entry.command_result_id]


def test_expired_approval_is_refused(outbound):
    config, gateway, sandbox = outbound
    entry = approved(config, sandbox, now=time.time() - config.outbound.approval_expiry_s - 5)
    report = dispatch_once(config, gateway, owner="w1")
    assert report.sent == 0 and sandbox.sent() == []
    assert get_entry(entry.command_result_id).state == "expired"


def test_a_refused_send_is_shown_not_buried(outbound):
    config, gateway, sandbox = outbound
    entry = approved(config, sandbox)
    sandbox.set_faults(script=[{"status": 400, "path": "/messages/send"}])
    report = dispatch_once(config, gateway, owner="w1")
    assert report.failed == 1 and sandbox.sent() == []
    failed = get_entry(entry.command_result_id)
    assert failed.state == "failed" and "status=400" in failed.last_error
    assert failures()[0].command_result_id == entry.command_result_id


def test_429_storm_waits_the_sum_of_retry_after_and_delivers_once(outbound):
    config, gateway, sandbox = outbound
    entry = approved(config, sandbox)
    sandbox.set_faults(script=[{"status": 429, "retry_after": 1, "path": "/messages/send"},
                               {"status": 503, "retry_after": 1, "path": "/messages/send"},
                               {"status": 429, "retry_after": 2, "path": "/messages/send"}])
    started = time.monotonic()
    report = dispatch_once(config, gateway, owner="w1")
    elapsed = time.monotonic() - started
    assert report.sent == 1 and elapsed >= 4.0
    assert len(sandbox.sent()) == 1 and gateway.stats.retries == 3
    assert get_entry(entry.command_result_id).state == "sent"


def test_test_environment_never_sends_through_a_real_api(outbound, db_url):
    config, _, sandbox = outbound
    approved(config, sandbox)
    from triage_tui.nylas.gateway import Gateway
    from tests.outbound.helpers import make_config

    real = make_config(db_url, api_uri="https://api.us.nylas.com", grant_id=sandbox.grant_id)
    report = dispatch_once(real, Gateway(real.nylas, "k"), owner="w1")
    assert report.claimed == 0 and "refusing to send" in report.errors[0]
    aimed_wrong = Gateway(config.nylas.model_copy(update={"api_uri": "https://api.eu.nylas.com"}), "k")
    report = dispatch_once(config, aimed_wrong, owner="w1")
    assert report.claimed == 0 and report.errors
    assert OutboxRow.get().state == "pending"


def test_run_dispatcher_loop_sends_until_stopped(outbound):
    import threading

    from triage_tui.outbound.dispatcher import run_dispatcher
    from triage_tui.store.db import connection

    config, gateway, sandbox = outbound
    entry = approved(config, sandbox)
    stop = threading.Event()

    def loop():
        with connection():
            run_dispatcher(config, gateway, owner="loop", stop=stop, idle_s=0.05)

    thread = threading.Thread(target=loop)
    thread.start()
    deadline = time.monotonic() + 10
    while get_entry(entry.command_result_id).state != "sent" and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and len(sandbox.sent()) == 1


def test_a_sent_reply_makes_its_open_ticket_pending_in_the_same_transaction(outbound):
    from triage_tui.store.decisions import approve_ticket
    from triage_tui.store.models import ConversationRow, DecisionRow, MessageRow, TicketRow

    config, gateway, sandbox = outbound
    mid = deliver_and_store(sandbox, subject="Invoice wrong")
    ticket = approve_ticket(MessageRow.get(MessageRow.message_id == mid).id, actor="dana", config=config,
                            category="billing")
    reply = Reply(grant_id=sandbox.grant_id, reply_to_message_id=mid, to=[Address(email="alice@customer.example")],
                  subject="Re: Invoice wrong", body=f"Your reference is {ticket.ticket_id}.")
    entry = approve_reply(reply, actor="dana", config=config, message_id=mid, grant_id=sandbox.grant_id)
    assert entry.ticket_id == ticket.ticket_id and TicketRow.get().status == "open"
    assert dispatch_once(config, gateway, owner="w1").sent == 1
    assert TicketRow.get().status == "pending" and ConversationRow.get().state == "pending"
    pending = DecisionRow.get(DecisionRow.kind == "ticket_pending")
    assert pending.actor == "w1" and pending.command_result_id and pending.ticket_id == ticket.ticket_id
    [audit] = [e for _, e in list_audit(action="ticket.pending")]
    assert audit.detail["reply_command_result_id"] == entry.command_result_id
    assert audit.detail["sent_message_id"] == get_entry(entry.command_result_id).sent_message_id
