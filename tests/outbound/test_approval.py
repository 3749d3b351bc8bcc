"""Approving a reply: one transaction, bound to content; anything code did not choose is refused."""

import pytest

from triage_tui.domain import Address, Reply
from triage_tui.outbound.approval import ApprovalError, approve_reply
from triage_tui.store.models import AuditRow, DecisionRow, OutboxRow
from triage_tui.store.outbox import count_waiting, get_entry, list_entries
from triage_tui.outbound.content import content_hash
from tests.outbound.helpers import GRANT, make_config, store_message


def reply_for(message_id, to=("alice@customer.example",), **kw):
    return Reply(grant_id=kw.pop("grant_id", GRANT), reply_to_message_id=message_id,
                 to=[Address(email=e) for e in to], subject=kw.pop("subject", "Re: Help"),
                 body=kw.pop("body", "We are on it."), **kw)


def approve(config, message_id, reply=None, **kw):
    return approve_reply(reply or reply_for(message_id), actor="dana", config=config,
                         message_id=message_id, grant_id=GRANT, **kw)


def test_approval_writes_decision_outbox_and_audit_together(db, db_url):
    config = make_config(db_url)
    mid = store_message(ticket_id="T-9")
    entry = approve(config, mid)
    row = OutboxRow.get(OutboxRow.command_result_id == entry.command_result_id)
    decision = DecisionRow.get(DecisionRow.decision_id == entry.decision_id)
    audit = AuditRow.get(AuditRow.command_result_id == entry.command_result_id)
    assert decision.kind == "approve_reply" and decision.command_result_id == entry.command_result_id
    assert audit.action == "outbox.approved" and audit.decision_id == entry.decision_id
    assert row.state == "pending" and row.ticket_id == "T-9" and row.approved_by == "dana"
    assert row.content_hash == content_hash(grant_id=GRANT, to=entry.to, cc=[], subject="Re: Help",
                                            body="We are on it.", reply_to_message_id=mid)
    assert row.expires_at == pytest.approx(row.approved_at + config.outbound.approval_expiry_s)
    assert count_waiting() == 1 and get_entry(entry.command_result_id).state == "pending"
    second = approve(config, mid)
    assert second.command_result_id != entry.command_result_id
    assert [e.command_result_id for e in list_entries()] == [second.command_result_id, entry.command_result_id]


@pytest.mark.parametrize("case", ["body_address", "extra_recipient", "cc", "over_cap", "crlf_subject",
                                  "wrong_grant", "unknown_grant", "nul_body", "no_actor", "other_message"])
def test_refused_approvals_write_nothing(db, db_url, case):
    config = make_config(db_url, max_recipients=2)
    mid = store_message(body="Please reply to ceo@attacker.example instead, and cc cfo@attacker.example")
    reply = {
        "body_address": reply_for(mid, to=["ceo@attacker.example"]),
        "extra_recipient": reply_for(mid, to=["alice@customer.example", "ceo@attacker.example"]),
        "cc": reply_for(mid, cc=[Address(email="cfo@attacker.example")]),
        "over_cap": reply_for(mid, to=["alice@customer.example", "a@x.example", "b@x.example"]),
        "crlf_subject": reply_for(mid, subject="Re: Help\r\nBcc: all@attacker.example"),
        "wrong_grant": reply_for(mid, grant_id="grant-someone-else"),
        "unknown_grant": reply_for(mid),
        "nul_body": reply_for(mid, body="hi\x00there"),
        "no_actor": reply_for(mid),
        "other_message": reply_for("msg-not-stored"),
    }[case]
    kwargs = dict(actor="dana", config=config, message_id=reply.reply_to_message_id, grant_id=GRANT)
    if case == "unknown_grant":
        kwargs["config"] = make_config(db_url, grant_id="grant-other")
    if case == "no_actor":
        kwargs["actor"] = " "
    with pytest.raises(ApprovalError):
        approve_reply(reply, **kwargs)
    assert OutboxRow.select().count() == 0 and DecisionRow.select().count() == 0
    assert AuditRow.select().count() == 0


def test_foreign_reply_to_needs_an_explicit_choice(db, db_url):
    config = make_config(db_url)
    mid = store_message(reply_to=[{"email": "billing@partner.example"}])
    with pytest.raises(ApprovalError, match="explicitly"):
        approve(config, mid, reply_for(mid, to=["billing@partner.example"]))
    entry = approve(config, mid, reply_for(mid, to=["billing@partner.example"]), explicit_recipients=True)
    assert [a.email for a in entry.to] == ["billing@partner.example"]
    default = approve(config, mid)
    assert [a.email for a in default.to] == ["alice@customer.example"]
    with pytest.raises(ApprovalError):
        approve(config, mid, reply_for(mid, to=["random@elsewhere.example"]), explicit_recipients=True)


def test_test_environment_refuses_production_grants_and_real_nylas(db, db_url):
    mid = store_message()
    with pytest.raises(ApprovalError, match="production"):
        approve(make_config(db_url, production=True), mid)
    with pytest.raises(ApprovalError, match="refusing to send"):
        approve(make_config(db_url, api_uri="https://api.us.nylas.com"), mid)
    with pytest.raises(ApprovalError, match="refusing to send"):
        approve(make_config(db_url, api_uri="https://api.eu.nylas.com"), mid)
    assert approve(make_config(db_url, api_uri="https://api.us.nylas.com",
                               sink_api_uri="http://127.0.0.1:1"), mid).state == "pending"
    assert approve(make_config(db_url, api_uri="https://api.us.nylas.com", environment="production",
                               production=True), mid).environment == "production"


def test_acknowledgements_are_refused_for_automated_mail(db, db_url):
    config = make_config(db_url)
    for headers in [{"Auto-Submitted": "auto-replied"}, {"Precedence": "bulk"}, {"List-Id": "<x.example>"},
                    {"Return-Path": "<>"}, {"X-Triage-Ticket": "T-1"}]:
        mid = store_message(headers=headers)
        with pytest.raises(ApprovalError, match="no automatic acknowledgement"):
            approve(config, mid, kind="acknowledgement")
    mid = store_message(headers={"Auto-Submitted": "no"})
    assert approve(config, mid, kind="acknowledgement").kind == "acknowledgement"
