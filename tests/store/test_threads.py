"""The thread view's data: the message, its whole thread with bodies, signals and suggestion."""

from __future__ import annotations

import json

from tests.store.factories import BASE_TIME, add_bodies, add_suggestions, make_message
from triage_tui.domain import MessageState
from triage_tui.store.leases import take_review_lease
from triage_tui.store.threads import message_detail

NOW = BASE_TIME + 10_000_000


def test_detail_has_the_whole_thread_oldest_first_with_bodies(db):
    newest = make_message(thread_id="thr-a", received_at=BASE_TIME + 300, subject="Re: crash")
    oldest = make_message(thread_id="thr-a", received_at=BASE_TIME + 100, subject="crash")
    middle = make_message(thread_id="thr-a", received_at=BASE_TIME + 200, subject="Re: crash")
    make_message(thread_id="thr-other", received_at=BASE_TIME + 150)
    make_message(thread_id="thr-a", grant_id="grant-2", received_at=BASE_TIME + 120)
    add_bodies([newest, oldest, middle])

    detail = message_detail(middle, now=NOW)

    assert detail.item.key == middle
    assert detail.message.subject == "Re: crash"
    assert [m.received_at.timestamp() for m in detail.thread] == [
        BASE_TIME + 100, BASE_TIME + 200, BASE_TIME + 300,
    ]
    assert all(m.grant_id == "grant-1" and m.thread_id == "thr-a" for m in detail.thread)
    assert detail.thread[0].body_text.startswith(f"Hello, this is the body of message {oldest}")
    assert detail.thread[0].to[0].email == "support@agent.example"


def test_detail_reads_what_ingest_stores(db):
    key = make_message(
        flags=json.dumps(["automated", "auto_reply", "reply_to_differs"]),
        last_error="",
        state="needs_human",
    )
    signals = {"auto_reply": True, "reply_to_differs": True, "hidden_characters": ["U+202E"],
               "reasons": ["Auto-Submitted: auto-replied"]}
    add_bodies(
        [key],
        headers=json.dumps([["Auto-Submitted", "auto-replied"], ["From", "a@b.c"]]),
        reply_to=json.dumps([{"email": "other@evil.example", "name": ""}]),
        cc_addrs=json.dumps([{"email": "cc@acme.com", "name": "Cc"}]),
        attachments=json.dumps([{"id": "a1", "filename": "log.txt", "content_type": "text/plain",
                                 "size": 12, "is_inline": False}]),
        signals=json.dumps(signals),
        hidden_characters=json.dumps(["U+202E"]),
        truncated=True,
    )
    add_suggestions([key], reasons=json.dumps(["matched rule billing-1"]), needs_human=True)

    detail = message_detail(key, now=NOW)

    assert detail.signals.auto_reply and detail.signals.reply_to_differs
    assert detail.signals.hidden_characters == ["U+202E"]
    assert detail.message.header("auto-submitted") == "auto-replied"
    assert detail.message.reply_to[0].email == "other@evil.example"
    assert detail.message.cc[0].name == "Cc"
    assert detail.message.attachments[0].filename == "log.txt"
    assert detail.message.truncated
    assert detail.item.flags == ["automated", "auto_reply", "reply_to_differs"]
    assert detail.item.state == MessageState.NEEDS_HUMAN
    assert detail.suggestion.reasons == ["matched rule billing-1"]
    assert detail.suggestion.needs_human
    assert detail.suggestion.classification_version == "rules-v1"


def test_signals_fall_back_to_flags_and_errors_are_shown(db):
    key = make_message(
        flags=json.dumps(["bounce", "mailing_list"]), state="quarantined",
        last_error="body could not be decoded",
    )
    detail = message_detail(key, now=NOW)
    assert detail.signals.bounce and detail.signals.mailing_list
    assert detail.last_error == "body could not be decoded"
    assert detail.suggestion is None
    assert detail.message.body_text == ""


def test_a_message_without_thread_is_its_own_thread_and_lease_shows(db):
    key = make_message(thread_id="")
    make_message(thread_id="")
    take_review_lease(key, holder="ana", now=NOW)
    detail = message_detail(key, now=NOW + 1)
    assert [m.message_id for m in detail.thread] == [detail.message.message_id]
    assert detail.item.lease_holder == "ana"


def test_unknown_key_gives_none(db):
    assert message_detail(424242) is None


def test_broken_json_in_a_body_does_not_break_the_view(db):
    key = make_message()
    add_bodies([key], headers="{not json", to_addrs='"oops"', signals="[]")
    detail = message_detail(key, now=NOW)
    assert detail.message.headers == [] and detail.message.to == []


def test_a_huge_thread_shows_its_newest_messages_oldest_first(db, monkeypatch):
    from triage_tui.store import threads

    monkeypatch.setattr(threads, "THREAD_LIMIT", 3)
    keys = [make_message(thread_id="thr-big", received_at=BASE_TIME + i) for i in range(5)]
    detail = message_detail(keys[-1], now=NOW)
    assert [m.received_at.timestamp() for m in detail.thread] == [BASE_TIME + 2, BASE_TIME + 3, BASE_TIME + 4]
