"""Mail signals: what marks a message as automated, and what does not."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from triage_tui.domain import Address, Attachment, Header, InboundMessage
from triage_tui.ingest.signals import compute_signals

AGENT = "support@acme.nylas.email"


def message(headers=(), *, sender="ana@customer.example", subject="Cannot log in", reply_to=(),
            body="Hello, I cannot log in.", attachments=()) -> InboundMessage:
    return InboundMessage(
        grant_id="g", message_id="m", subject=subject, sender=Address(email=sender),
        reply_to=[Address(email=a) for a in reply_to], received_at=datetime.now(timezone.utc),
        body_text=body, headers=[Header(name=n, value=v) for n, v in headers],
        attachments=list(attachments),
    )


@pytest.mark.parametrize("headers", [
    [("Auto-Submitted", "auto-replied")],
    [("Auto-Submitted", "auto-generated; owner-email=x@y")],
    [("X-Autoreply", "yes")],
    [("X-Autorespond", "Out of office")],
    [("Precedence", "auto_reply")],
])
def test_auto_reply_headers_mark_automated(headers):
    signals = compute_signals(message(headers))
    assert signals.auto_reply and signals.automated
    assert signals.reasons


def test_auto_submitted_no_and_suppress_request_are_human_mail():
    signals = compute_signals(message([("Auto-Submitted", "no"), ("X-Auto-Response-Suppress", "All")]))
    assert not signals.automated
    assert signals.reasons == []


def test_out_of_office_subject_is_an_auto_reply():
    assert compute_signals(message(subject="Automatic reply: Your ticket")).auto_reply


@pytest.mark.parametrize("kwargs", [
    {"headers": [("Content-Type", 'multipart/report; report-type="delivery-status"; boundary=x')]},
    {"headers": [("X-Failed-Recipients", "bob@example.com")]},
    {"sender": "MAILER-DAEMON@mx.example.net"},
    {"headers": [("Return-Path", "<>")], "subject": "Undelivered Mail Returned to Sender"},
    {"attachments": [Attachment(content_type="message/delivery-status")]},
])
def test_bounces_are_flagged(kwargs):
    signals = compute_signals(message(**kwargs))
    assert signals.bounce and signals.automated


@pytest.mark.parametrize("headers", [
    [("List-Id", "<announce.lists.example>")],
    [("List-Unsubscribe", "<mailto:unsub@example.com>")],
    [("Precedence", "bulk")],
    [("Precedence", "list")],
])
def test_list_mail_is_flagged(headers):
    signals = compute_signals(message(headers))
    assert signals.mailing_list and signals.automated


def test_own_outbound_by_marker_and_by_address():
    assert compute_signals(message([("X-Triage-Ticket", "T-1")])).own_outbound
    by_address = compute_signals(message(sender=AGENT.upper()), own_addresses=[AGENT])
    assert by_address.own_outbound and by_address.automated


def test_hidden_characters_and_reply_to_are_flagged_without_hiding_the_message():
    signals = compute_signals(message(body="pay now\u202eevil\U000e0041", reply_to=["pay@elsewhere.example"]))
    assert signals.hidden_characters
    assert signals.reply_to_differs
    assert not signals.automated


def test_many_received_headers_suspect_a_loop():
    signals = compute_signals(message([("Received", f"hop {i}") for i in range(40)]))
    assert signals.loop_suspected


@pytest.mark.parametrize("headers, sender, subject, kind", [
    ([("Auto-Submitted", "auto-replied"), ("Precedence", "bulk")], None, None, "auto_reply"),
    ([("X-Autoreply", "yes"), ("List-Id", "<news.example>")], None, None, "auto_reply"),
    ([("Auto-Submitted", "auto-replied"), ("X-Failed-Recipients", "bo@example.com")], None, None, "bounce"),
    ([("Auto-Submitted", "auto-replied")], AGENT, None, "own_outbound"),
    ([("X-Loop", "helpdesk"), ("Precedence", "bulk")], None, None, "loop_suspected"),
    ([("Precedence", "bulk")], None, None, "mailing_list"),
    ([], None, "Re: invoice", "customer"),
])
def test_one_kind_wins_by_the_documented_precedence_and_the_evidence_stays(headers, sender, subject, kind):
    signals = compute_signals(message(headers, sender=sender or "ana@customer.example",
                                      subject=subject or "Cannot log in"), own_addresses=[AGENT])
    assert signals.kind.value == kind
    flags = {name for name in ("auto_reply", "bounce", "mailing_list", "own_outbound", "loop_suspected")
             if getattr(signals, name)}
    assert flags == ({kind} if kind != "customer" else set())
    assert signals.automated is (kind != "customer")
    if len(headers) > 1:
        assert len(signals.reasons) >= 2  # the losing sign is still named in the reasons
