"""The gateway over the official SDK against the bundled sandbox on loopback: reads and sends."""

from __future__ import annotations

import pytest

from triage_tui.domain import Address, Header, Reply
from triage_tui.nylas.errors import AuthError, BadRequest, Conflict, NotFound
from triage_tui.nylas.gateway import _query
from tests.nylas.conftest import deliver_mails


@pytest.fixture
def small_sandbox(make_sandbox):
    return make_sandbox(messages=0)


def test_paging_the_seeded_mailbox_returns_every_message_once(sandbox, gateway_for):
    gateway = gateway_for(sandbox)
    pages = list(gateway.iter_message_pages(sandbox.grant_id, page_limit=50, max_pages=100))
    ids = [m.message_id for page in pages for m in page.messages]
    assert sum(page.skipped for page in pages) == 0
    assert len(ids) == len(set(ids)) == sandbox.stats()["messages"][sandbox.grant_id]
    assert len(ids) >= 300
    assert all(m.received_at.tzinfo is not None and m.grant_id == sandbox.grant_id
               for page in pages for m in page.messages)
    messages = [m for page in pages for m in page.messages]
    assert all(m.internet_message_id for m in messages)
    assert pages[-1].next_cursor is None
    html = [m for m in messages if m.body_html]
    assert html and all(m.body_text.strip() and "<script" not in m.body_text.lower() for m in html)
    assert any(m.hidden_characters for m in messages)
    assert any(m.in_reply_to and m.references for m in messages)


def test_page_and_item_caps_bound_the_listing(small_sandbox, gateway_for):
    deliver_mails(small_sandbox, 25)
    gateway = gateway_for(small_sandbox)
    capped_pages = list(gateway.iter_message_pages(small_sandbox.grant_id, page_limit=10, max_pages=2))
    assert [len(p.messages) for p in capped_pages] == [10, 10] and capped_pages[-1].next_cursor
    capped_items = list(gateway.iter_message_pages(small_sandbox.grant_id, page_limit=10, max_items=13))
    assert sum(len(p.messages) for p in capped_items) == 13


def test_received_after_window(small_sandbox, gateway_for):
    ids = deliver_mails(small_sandbox, 10, start=1_700_000_000)
    gateway = gateway_for(small_sandbox)
    pages = gateway.iter_message_pages(small_sandbox.grant_id, received_after=1_700_000_005,
                                       received_before=1_700_000_008)
    got = {m.message_id for page in pages for m in page.messages}
    assert got and got <= set(ids[5:9]) and ids[0] not in got


def test_message_with_headers_thread_and_folders(small_sandbox, gateway_for):
    [message_id] = deliver_mails(small_sandbox, 1)
    gateway = gateway_for(small_sandbox)
    message = gateway.get_message(small_sandbox.grant_id, message_id)
    assert message.internet_message_id.startswith("<") and message.header("Subject") == "Question 0"
    assert message.body_text == "Hello, question number 0" and message.sender.name == "Customer 0"
    thread = gateway.get_thread(small_sandbox.grant_id, message.thread_id)
    assert message_id in thread.message_ids
    assert any(t.thread_id == message.thread_id for t in gateway.iter_threads(small_sandbox.grant_id))
    folders = gateway.list_folders(small_sandbox.grant_id)
    assert {"Inbox", "Sent", "Drafts", "Trash", "Junk", "Archive"} <= {f.name for f in folders}
    inbox = next(f for f in folders if f.is_named("inbox"))
    assert inbox.id in message.folder_ids
    grant = gateway.get_grant(small_sandbox.grant_id)
    assert grant["provider"] == "nylas" and "workspace_id" in grant
    evaluations = gateway.rule_evaluations(small_sandbox.grant_id, message_ids=[message_id])
    assert [e.message_id for e in evaluations] == [message_id]


def test_reply_lands_in_thread_and_idempotent_replay(small_sandbox, gateway_for):
    [message_id] = deliver_mails(small_sandbox, 1)
    gateway = gateway_for(small_sandbox)
    original = gateway.get_message(small_sandbox.grant_id, message_id)
    reply = Reply(grant_id=small_sandbox.grant_id, reply_to_message_id=message_id,
                  to=[original.sender], subject="Re: Question 0", body="We are on it.")
    first = gateway.send_reply(reply, idempotency_key="reply-1",
                               custom_headers=[Header(name="X-Triage-Ticket", value="T-1")])
    second = gateway.send_reply(reply, idempotency_key="reply-1",
                                custom_headers=[Header(name="X-Triage-Ticket", value="T-1")])
    assert first.thread_id == original.thread_id and first.status_code in (200, 202)
    assert not first.idempotent_replay and second.idempotent_replay
    assert second.message_id == first.message_id
    sent = small_sandbox.sent()
    assert len(sent) == 1 and small_sandbox.stats()["sends_delivered"][small_sandbox.grant_id] == 1
    delivered = gateway.get_message(small_sandbox.grant_id, first.message_id)
    assert delivered.in_reply_to == original.internet_message_id
    assert original.internet_message_id in delivered.references
    changed = reply.model_copy(update={"body": "Another text"})
    with pytest.raises(Conflict) as caught:
        gateway.send_reply(changed, idempotency_key="reply-1")
    assert caught.value.status == 409 and not caught.value.retryable
    assert len(small_sandbox.sent()) == 1


def test_bad_send_input_refused_before_any_request(small_sandbox, gateway_for):
    gateway = gateway_for(small_sandbox)
    reply = Reply(grant_id=small_sandbox.grant_id, reply_to_message_id="m", subject="Re",
                  to=[Address(email="a@b.example")], body="x")
    for key in ("", "k" * 257, "clé", "a\nb"):
        with pytest.raises(BadRequest):
            gateway.send_reply(reply, idempotency_key=key)
    with pytest.raises(BadRequest):
        gateway.send_reply(reply, idempotency_key="k", custom_headers=[Header(name="X-A", value="v\r\nBcc: x")])
    assert gateway.stats.requests == 0


def test_wrong_key_and_unknown_grant_and_message(small_sandbox, gateway_for, recorded_sleep):
    with pytest.raises(AuthError) as caught:
        gateway_for(small_sandbox, api_key="wrong").get_grant(small_sandbox.grant_id)
    assert caught.value.status == 401
    gateway = gateway_for(small_sandbox)
    with pytest.raises(NotFound):
        gateway.get_grant("no-such-grant")
    with pytest.raises(NotFound):
        gateway.get_message(small_sandbox.grant_id, "no-such-message")
    assert gateway.stats.requests == 1 + 3
    assert len(recorded_sleep.waits) == 2


def test_query_params_are_api_shaped():
    assert _query(unread=True, starred=False, any_email=["a@x", "b@y"], limit=5, skip=None) == {
        "unread": "true", "starred": "false", "any_email": "a@x,b@y", "limit": 5}


def test_empty_ids_are_refused_locally(small_sandbox, gateway_for):
    gateway = gateway_for(small_sandbox)
    for call in (lambda: gateway.get_message(small_sandbox.grant_id, ""),
                 lambda: gateway.get_thread(small_sandbox.grant_id, " "),
                 lambda: gateway.get_grant("")):
        with pytest.raises(BadRequest):
            call()
    assert gateway.stats.requests == 0
