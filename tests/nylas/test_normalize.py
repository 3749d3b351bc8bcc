"""Normalisation of odd API messages into domain types: never a crash, nothing hidden lost."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nylas.models.messages import Message

from triage_tui.nylas.normalize import (
    normalize_folder,
    normalize_message,
    normalize_rule_evaluation,
    normalize_thread,
    parse_message_ids,
    to_datetime,
)
from triage_tui.nylas.text import html_to_text, tag_payload, visible_text

FULL = {
    "object": "message", "id": "m1", "grant_id": "g1", "thread_id": "t1",
    "subject": "Invoice\r\nBcc: evil@example.com",
    "from": [{"name": "Ann Buyer", "email": "ann@customer.example"}, {"email": "second@x.example"}],
    "to": [{"email": "support@agent.example"}],
    "cc": [{"name": "Cc Person", "email": "cc@customer.example"}],
    "reply_to": [{"email": "billing@other.example"}],
    "date": 1733945160, "unread": False, "snippet": "Please see the invoice",
    "body": "Please see the invoice.\nThanks",
    "folders": ["inbox-id"], "labels": [{"id": "lbl-1"}, "lbl-2"],
    "attachments": [{"id": "a1", "filename": "inv.pdf", "content_type": "application/pdf",
                     "size": 1708, "is_inline": False}],
    "headers": [
        {"name": "Message-ID", "value": "<abc@customer.example>"},
        {"name": "In-Reply-To", "value": "<prev@agent.example>"},
        {"name": "References", "value": "<root@x.example>\r\n <prev@agent.example>"},
        {"name": "Auto-Submitted", "value": "no"},
    ],
}


def test_full_message_maps_every_field():
    message = normalize_message(FULL)
    assert message.grant_id == "g1" and message.message_id == "m1" and message.thread_id == "t1"
    assert message.subject == "Invoice Bcc: evil@example.com"
    assert message.sender.email == "ann@customer.example" and message.sender.name == "Ann Buyer"
    assert [a.email for a in message.cc] == ["cc@customer.example"]
    assert [a.email for a in message.reply_to] == ["billing@other.example"]
    assert message.received_at == datetime(2024, 12, 11, 19, 26, tzinfo=timezone.utc)
    assert message.received_at.tzinfo is not None
    assert message.body_text == "Please see the invoice.\nThanks" and message.body_html == ""
    assert message.folder_ids == ["inbox-id"] and message.label_ids == ["lbl-1", "lbl-2"]
    assert message.attachments[0].filename == "inv.pdf" and message.attachments[0].size == 1708
    assert message.internet_message_id == "<abc@customer.example>"
    assert message.in_reply_to == "<prev@agent.example>"
    assert message.references == ["<root@x.example>", "<prev@agent.example>"]
    assert message.header("auto-submitted") == "no"
    assert message.unread is False and message.hidden_characters == []


def test_sdk_message_model_is_accepted():
    sdk = Message.from_dict(dict(FULL))
    message = normalize_message(sdk, "g1")
    assert message.sender.email == "ann@customer.example"
    assert message.internet_message_id == "<abc@customer.example>"
    assert message.folder_ids == ["inbox-id"]


def test_html_only_body_gives_text_without_script_or_style():
    html = (
        "<html><head><style>.x{color:red}</style><title>t</title></head><body>"
        "<p>Our <b>checkout</b> is down&nbsp;&amp; failing</p><script>steal()</script>"
        "<blockquote><p>Earlier message</p></blockquote><ul><li>one</li><li>two</li></ul>"
        "</body></html>"
    )
    message = normalize_message({"id": "m", "date": 1, "body": html})
    assert message.body_html == html
    assert "steal" not in message.body_text and "color" not in message.body_text
    assert "checkout is down" in message.body_text
    assert "> Earlier message" in message.body_text
    assert "- one\n- two" in message.body_text
    assert message.snippet.startswith("Our checkout is down")


def test_hidden_characters_are_listed_kept_and_strippable():
    subject = "Pay\u200bment \u202eevil\u202c"
    body = "Hi\u2060 there \U000e0049\U000e0047\U000e004e\U000e004f\ufeff"
    message = normalize_message({"id": "m", "date": 1, "subject": subject, "body": body})
    assert message.subject == subject and message.body_text == body
    names = message.hidden_characters
    for name in ("ZERO WIDTH SPACE", "RIGHT-TO-LEFT OVERRIDE", "POP DIRECTIONAL FORMATTING",
                 "WORD JOINER", "TAG CHARACTER", "ZERO WIDTH NO-BREAK SPACE"):
        assert name in names
    assert len(names) == 6
    assert tag_payload(body) == "IGNO"
    assert visible_text(body) == "Hi there "
    assert visible_text("\u2066a\u2069\u200d") == "a"


def test_nul_and_lone_surrogates_are_cleaned_everywhere():
    raw = {
        "id": "m\x00", "date": 1, "subject": "a\x00b\ud800", "body": "x\x00y\udfff",
        "from": [{"email": "a\x00@b.example", "name": "N\ud83d"}],
        "headers": [{"name": "X-Odd\x00", "value": "v\x00\udc80"}],
    }
    message = normalize_message(raw)
    dumped = message.model_dump_json()
    assert "\\u0000" not in dumped
    assert message.subject == "ab\ufffd" and message.body_text == "xy\ufffd"
    assert message.sender.email == "a@b.example" and message.message_id == "m"
    assert message.headers[0].name == "X-Odd" and message.headers[0].value == "v\ufffd"
    message.model_dump_json().encode("utf-8")


@pytest.mark.parametrize(
    "raw",
    [
        None, {}, [], "string", 42, {"id": None, "date": None, "from": None},
        {"id": 7, "date": "1733945160", "unread": "false", "from": "a@b.example"},
        {"id": "m", "date": "not a date", "to": [None, 3, {"email": None}], "attachments": "x"},
        {"id": "m", "date": 10**30, "headers": {"Message-ID": "<m@x>"}, "folders": "inbox"},
        {"id": "m", "date": -5, "headers": [None, ["Subject", "x"], {"name": None}], "body": 12},
        {"id": "m", "date": True, "attachments": [{"size": "big"}, None, {"size": -4}]},
    ],
)
def test_odd_inputs_never_crash(raw):
    message = normalize_message(raw, "g", now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert message.grant_id == "g"
    assert message.received_at.tzinfo is not None


def test_numbers_as_strings_and_millisecond_dates():
    message = normalize_message({"id": 7, "date": "1733945160", "unread": "false", "from": "a@b.example"})
    assert message.message_id == "7" and message.unread is False and message.sender.email == "a@b.example"
    assert to_datetime(1733945160000) == to_datetime(1733945160)
    assert to_datetime("abc") is None and to_datetime(10**30) is None and to_datetime(None) is None


def test_missing_date_falls_back_to_created_at_then_now():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert normalize_message({"id": "m", "created_at": 100}, now=now).received_at == to_datetime(100)
    assert normalize_message({"id": "m"}, now=now).received_at == now


def test_huge_body_is_capped_and_flagged():
    html = "<p>" + "word " * 500_000 + "</p>" + "<div>x</div>" * 200_000
    message = normalize_message({"id": "m", "date": 1, "body": html})
    assert message.truncated is True
    assert len(message.body_html) <= 2_000_000 and len(message.body_text) <= 1_000_000
    small = normalize_message({"id": "m", "date": 1, "body": "short"})
    assert small.truncated is False


def test_message_id_parsing():
    assert parse_message_ids("<a@b> <c@d>\r\n\t<e@f>") == ["<a@b>", "<c@d>", "<e@f>"]
    assert parse_message_ids("bare-id@host") == ["bare-id@host"]
    assert parse_message_ids(None) == [] and parse_message_ids("") == []


def test_thread_folder_and_rule_evaluation():
    thread = normalize_thread({
        "id": "t1", "grant_id": "g", "subject": "S", "message_ids": ["m1", "m2"],
        "participants": [{"email": "a@b.example"}], "earliest_message_date": 10,
        "latest_message_received_date": 20, "latest_message_sent_date": 30,
    })
    assert thread.message_ids == ["m1", "m2"] and thread.latest_message_at == to_datetime(30)
    folder = normalize_folder({"id": "f1", "name": "Sent", "attributes": "\\Sent", "total_count": "3"})
    assert normalize_folder({"id": "f", "attributes": "['\\\\Sent']"}).attributes == ["\\Sent"]
    assert folder.attributes == ["\\Sent"] and folder.total_count == 3 and folder.is_named("sent")
    evaluation = normalize_rule_evaluation({
        "message_id": "m1", "matched_rule_ids": ["r1"], "evaluated_at": 5,
        "applied_actions": {"marked_as_spam": True, "archived": False, "folder_ids": ["junk"]},
    }, "g")
    assert evaluation.rule_ids == ["r1"]
    assert evaluation.actions == ["mark_as_spam", "assign_to_folder:junk"]


def test_html_to_text_survives_broken_markup():
    assert "text" in html_to_text("<p>text<div><<<>>></b></i></script>")
    assert html_to_text("<script>never closed") == ""
    assert html_to_text("<html><head><meta charset=utf-8><body><p>Shown</p>") == "Shown"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
keys = st.sampled_from(["id", "date", "from", "to", "cc", "reply_to", "subject", "body", "snippet",
                        "folders", "labels", "headers", "attachments", "unread", "thread_id", "grant_id"])


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(keys, json_values, max_size=10))
def test_any_json_shape_normalises(raw):
    message = normalize_message(raw, "g")
    dumped = message.model_dump_json()
    assert "\\u0000" not in dumped
