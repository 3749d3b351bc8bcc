"""The ticket lifecycle drives tracker writes: approval creates, customer mail comments, solve/reopen sync,
automated mail writes nothing; through the real ingest write path and decisions, to the fake GitHub over HTTP."""

from __future__ import annotations

from triage_tui.config import InboxConfig
from triage_tui.outbound.tracker_dispatch import dispatch_tracker_once
from triage_tui.store import tickets, tracker_events
from triage_tui.store.db import write_transaction
from triage_tui.store.decisions import approve_ticket, solve_ticket
from triage_tui.store.messages import store_batch
from triage_tui.store.models import OutboxRow, TicketRow, TrackerLinkRow, TrackerWriteRow
from triage_tui.trackers.registry import build_tracker
from tests.store.test_conversations import AGENT, AUTOMATED, SCOPE, at, key, mail
from tests.trackers.helpers import make_config, tracker_settings


def _config(db_url, **kwargs):
    config = make_config(db_url, **kwargs)
    return config.model_copy(update={"inboxes": [InboxConfig(grant_id=SCOPE.grant_id, email=AGENT)]})


def _ops() -> list[str]:
    return [row.op for row in TrackerWriteRow.select().order_by(TrackerWriteRow.id)]


def test_approval_customer_mail_and_status_changes_reach_the_tracker_once(db, db_url, make_fake):
    fake = make_fake("github")
    config = _config(db_url, trackers={"gh": tracker_settings("github", fake)}, default="gh")
    tracker = build_tracker(config, "gh")
    store_batch(SCOPE, [mail("c1", minutes=0, body="The invoice is wrong")], now=at(1), tracking=config)
    assert _ops() == []  # no ticket yet: nothing for a tracker
    ticket = approve_ticket(key("c1"), actor="dana", config=config, now=at(2))
    assert _ops() == ["create"]
    dispatch_tracker_once(config, tracker, owner="w1")
    issues = fake.state()["items"]
    assert len(issues) == 1 and "The invoice is wrong" in issues[0]["body"]
    link = TrackerLinkRow.get(TrackerLinkRow.ticket_id == ticket.ticket_id)
    assert link.external_key == "acme/support#1" and link.url == issues[0]["html_url"]

    # the dispatcher records our reply as sent (as outbound/claims does): one comment by the agent
    sent = OutboxRow(command_result_id="reply-1", body="We corrected the invoice.", sent_message_id="s1",
                     decision_id="", sent_at=at(3))
    with write_transaction():
        change = tickets.reply_sent(SCOPE.grant_id, "c1", at=at(3), actor="dispatcher", sent_message_id="s1",
                                    reply_command_result_id="reply-1")
        tracker_events.reply_went_out(config, change, sent, now=at(3))
    assert _ops() == ["create", "comment"]

    # an auto-reply on the ticketed thread writes nothing; the customer's answer is one comment
    store_batch(SCOPE, [mail("auto", minutes=3, **AUTOMATED["auto_reply"])], now=at(3), tracking=config)
    assert _ops() == ["create", "comment"]
    reply = mail("c2", minutes=4, subject="Re: Invoice wrong", body="Still wrong, see attached")
    store_batch(SCOPE, [reply], now=at(4), tracking=config)
    store_batch(SCOPE, [reply], now=at(5), tracking=config)  # delivered again: absorbed, no second comment
    assert _ops() == ["create", "comment", "comment"]  # pending -> open is ours alone: no status write

    solve_ticket(key("c1"), actor="dana", config=config, reason="fixed the invoice", now=at(6))
    assert _ops() == ["create", "comment", "comment", "status"]
    dispatch_tracker_once(config, tracker, owner="w2")
    state = fake.state()
    assert ["We corrected the invoice." in c["body"] for c in state["comments"]] == [True, False]
    assert [c["body"].count("Still wrong, see attached") for c in state["comments"]] == [0, 1]
    assert state["items"][0]["state"] == "closed"

    # the customer writing on the solved ticket: a comment, and the issue reopens
    store_batch(SCOPE, [mail("c3", minutes=8, subject="Re: Invoice wrong", body="It broke again")], now=at(8),
                tracking=config)
    assert _ops() == ["create", "comment", "comment", "status", "comment", "status"]
    assert TicketRow.get(TicketRow.ticket_id == ticket.ticket_id).status == "open"
    dispatch_tracker_once(config, tracker, owner="w3")
    state = fake.state()
    assert len(state["items"]) == 1 and state["items"][0]["state"] == "open" and len(state["comments"]) == 3
    assert TrackerWriteRow.select().where(TrackerWriteRow.state != "done").count() == 0
    tracker.close()


def test_the_local_tracker_writes_nothing_and_links_the_ticket_to_itself(db, db_url):
    config = _config(db_url)
    store_batch(SCOPE, [mail("c1", minutes=0)], now=at(1), tracking=config)
    ticket = approve_ticket(key("c1"), actor="dana", config=config, now=at(2))
    store_batch(SCOPE, [mail("c2", minutes=4, subject="Re: Invoice wrong")], now=at(4), tracking=config)
    solve_ticket(key("c1"), actor="dana", config=config, now=at(6))
    assert TrackerWriteRow.select().count() == 0
    assert [link.external_key for link in TrackerLinkRow.select()] == [ticket.ticket_id]
