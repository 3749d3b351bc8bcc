"""The gateway under injected faults: 429 storms, 5xx, HTML 502, refused connections, churn."""

from __future__ import annotations

import socket
import time

import pytest

from triage_tui.config import NylasConfig
from triage_tui.domain import Reply
from triage_tui.nylas.errors import BadResponse, GatewayError, RateLimited, Timeout, Unreachable
from triage_tui.nylas.gateway import Gateway
from tests.nylas.conftest import deliver_mails

STORM = [
    {"status": 429, "retry_after": 1, "method": "POST", "path": "/messages/send"},
    {"status": 503, "retry_after": 1, "method": "POST", "path": "/messages/send"},
    {"status": 429, "retry_after": 2, "method": "POST", "path": "/messages/send"},
]


@pytest.fixture
def small_sandbox(make_sandbox):
    return make_sandbox(messages=0)


def reply_to_first(sandbox) -> Reply:
    [message_id] = deliver_mails(sandbox, 1)
    return Reply(grant_id=sandbox.grant_id, reply_to_message_id=message_id, subject="Re: Question 0",
                 to=[{"email": "c0@customer.example"}], body="Looking into it.")


def test_429_storm_waits_the_retry_after_sum_in_real_time_and_sends_once(small_sandbox):
    reply = reply_to_first(small_sandbox)
    small_sandbox.set_faults(script=STORM)
    gateway = Gateway(NylasConfig(api_uri=small_sandbox.api_uri, max_retries=5, timeout_s=5),
                      small_sandbox.api_key)
    started = time.monotonic()
    result = gateway.send_reply(reply, idempotency_key="storm-1")
    elapsed = time.monotonic() - started
    assert elapsed >= 1 + 1 + 2
    assert elapsed < 4 + 6
    assert result.message_id and not result.idempotent_replay
    assert gateway.stats.retries == 3 and gateway.stats.requests == 4
    assert len(small_sandbox.sent()) == 1
    assert small_sandbox.stats()["sends_delivered"][small_sandbox.grant_id] == 1


def test_429_storm_waits_counted_with_injected_sleep(small_sandbox, gateway_for, recorded_sleep):
    reply = reply_to_first(small_sandbox)
    small_sandbox.set_faults(script=STORM)
    gateway_for(small_sandbox).send_reply(reply, idempotency_key="storm-2")
    assert len(recorded_sleep.waits) == 3
    assert [int(w) for w in recorded_sleep.waits] == [1, 1, 2]
    assert sum(recorded_sleep.waits) >= 4
    assert len(small_sandbox.sent()) == 1


def test_rate_limited_beyond_retries_is_typed_with_retry_after(small_sandbox, gateway_for):
    small_sandbox.set_faults(rate_429=1.0, retry_after_s=3)
    gateway = gateway_for(small_sandbox, max_retries=2)
    with pytest.raises(RateLimited) as caught:
        gateway.get_grant(small_sandbox.grant_id)
    assert caught.value.status == 429 and caught.value.retry_after == 3.0
    assert gateway.stats.requests == 3


def test_5xx_backs_off_then_succeeds(small_sandbox, gateway_for, recorded_sleep):
    deliver_mails(small_sandbox, 3)
    small_sandbox.set_faults(script=[{"status": 500, "path": "/messages"},
                                     {"status": 502, "path": "/messages"},
                                     {"status": 504, "path": "/messages"}])
    gateway = gateway_for(small_sandbox, max_backoff_s=4.0)
    pages = list(gateway.iter_message_pages(small_sandbox.grant_id))
    assert sum(len(p.messages) for p in pages) == 3
    assert len(recorded_sleep.waits) == 3
    assert all(0 <= wait <= min(4.0, 0.5 * 2 ** n) for n, wait in enumerate(recorded_sleep.waits))
    assert small_sandbox.stats()["requests"]["messages.list"] == 1


def test_non_json_502_becomes_bad_response(small_sandbox, gateway_for):
    small_sandbox.set_faults(html_502_rate=1.0)
    gateway = gateway_for(small_sandbox, max_retries=2)
    with pytest.raises(BadResponse) as caught:
        gateway.get_grant(small_sandbox.grant_id)
    assert caught.value.status == 502 and "502 Bad Gateway" in caught.value.message
    assert gateway.stats.requests == 3 and isinstance(caught.value, GatewayError)


def test_non_json_502_once_is_survived(small_sandbox, gateway_for):
    small_sandbox.set_faults(script=[{"status": 502, "html": True}])
    assert gateway_for(small_sandbox).get_grant(small_sandbox.grant_id)["id"] == small_sandbox.grant_id


def test_refused_connection_becomes_unreachable(gateway_for, recorded_sleep):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gateway = gateway_for(f"http://127.0.0.1:{port}", max_retries=2)
    with pytest.raises(Unreachable) as caught:
        gateway.get_grant("grant")
    assert caught.value.retryable and len(recorded_sleep.waits) == 2
    assert caught.value.__cause__ is not None


def test_slow_answer_becomes_timeout(small_sandbox, gateway_for):
    small_sandbox.set_faults(slow_ms=1500)
    gateway = gateway_for(small_sandbox, timeout_s=0.3, max_retries=1)
    with pytest.raises(Timeout):
        gateway.get_grant(small_sandbox.grant_id)
    assert gateway.stats.requests == 2


def test_id_churn_is_survived(small_sandbox, gateway_for):
    ids = deliver_mails(small_sandbox, 5)
    small_sandbox.set_faults(id_churn_rate=1.0)
    gateway = gateway_for(small_sandbox)
    assert [gateway.get_message(small_sandbox.grant_id, i).message_id for i in ids] == ids
    assert small_sandbox.stats()["faults_injected"].get("id_churn") == 5
    assert gateway.stats.requests == 10


def test_request_rate_cap_applies_to_every_request(small_sandbox, gateway_for, recorded_sleep):
    gateway = gateway_for(small_sandbox, max_requests_per_s=5.0)
    for _ in range(12):
        gateway.get_grant(small_sandbox.grant_id)
    assert recorded_sleep.now == pytest.approx((12 - 5) / 5.0)


def test_send_timeout_is_retried_with_the_same_key_and_delivers_once(small_sandbox):
    reply = reply_to_first(small_sandbox)
    small_sandbox.set_faults(send_delay_ms=700)
    gateway = Gateway(NylasConfig(api_uri=small_sandbox.api_uri, timeout_s=0.4, max_retries=8,
                                  max_backoff_s=0.5), small_sandbox.api_key)
    result = gateway.send_reply(reply, idempotency_key="slow-send-1")
    assert result.message_id and gateway.stats.retries >= 1
    assert len(small_sandbox.sent()) == 1
    assert small_sandbox.stats()["sends_delivered"][small_sandbox.grant_id] == 1


def test_status_of_a_non_json_page_comes_from_the_response_not_the_text(small_sandbox, gateway_for):
    small_sandbox.set_faults(script=[{"status": 503, "html": True, "count": 3}])
    gateway = gateway_for(small_sandbox, max_retries=2)
    with pytest.raises(BadResponse) as caught:
        gateway.get_grant(small_sandbox.grant_id)
    assert caught.value.status == 503
