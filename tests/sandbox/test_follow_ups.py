"""The drip's customers answer replies we sent through the API, once each, in the reply's thread."""

from __future__ import annotations

import random

from triage_tui.sandbox.follow_ups import MIN_AGE_S, answer_a_reply
from triage_tui.sandbox.mailbox import MailRecord
from triage_tui.sandbox.state import Sandbox, SandboxOptions


def test_a_reply_we_sent_is_answered_once_in_its_thread_and_seeded_mail_never():
    sandbox = Sandbox(SandboxOptions(messages=0))
    grant = sandbox.options.grant_ids[0]
    box = sandbox.mailboxes[grant]
    question = box.add(MailRecord(subject="Invoice wrong", from_=[("Ana", "ana@customer.example")],
                                  to=[("", box.email)], message_id="<q@customer.example>"), 1_000, ["INBOX"])
    box.add(MailRecord(subject="Re: Invoice wrong", from_=[("", box.email)], to=[("Ana", "ana@customer.example")],
                       in_reply_to="<q@customer.example>", message_id="<seeded@sandbox>"), 1_010, ["SENT"])
    ours = box.add(MailRecord(subject="Re: Invoice wrong", from_=[("", box.email)],
                              to=[("Ana", "ana@customer.example")], in_reply_to="<q@customer.example>",
                              headers=[("X-Triage-Reply-Key", "key-1")], message_id="<ours@sandbox>"),
                   1_020, ["SENT"])
    rng, answered = random.Random(1), set()
    assert answer_a_reply(sandbox, grant, rng, answered, now=1_020 + MIN_AGE_S - 1) is None  # too soon
    answer_id = answer_a_reply(sandbox, grant, rng, answered, now=1_020 + MIN_AGE_S)
    answer = box.messages[answer_id]
    assert answer.thread_id == ours.thread_id == question.thread_id
    assert answer.record.in_reply_to == "<ours@sandbox>" and answer.record.from_[0][1] == "ana@customer.example"
    assert answer_a_reply(sandbox, grant, rng, answered, now=2_000) is None  # each reply is answered once
    copy = box.add(MailRecord(subject="Invoice wrong", from_=[("Ana", "ana@customer.example")],
                              to=[("", box.email)], message_id="<q@customer.example>"), 1_030, ["INBOX"])
    assert copy.thread_id == question.thread_id and copy.id != question.id  # a second copy joins its thread
    sandbox.close()
