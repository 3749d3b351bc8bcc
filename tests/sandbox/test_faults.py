"""Fault injection: scripted storms, rates, HTML 502, slow responses, id churn, latency."""

import time

import httpx
import nylas
import pytest
import requests
from nylas.models.errors import NylasApiError, NylasSdkTimeoutError

from tests.sandbox.helpers import fill


def test_script_drives_an_exact_429_storm_then_serves(empty, client):
    empty.set_faults(script=[{"status": 429, "retry_after": 2, "method": "POST", "path": "/send"},
                             {"status": 503, "retry_after": 1, "path": "/send"}])
    body = {"to": [{"email": "a@b.example"}], "subject": "s"}
    client.messages.list(empty.grant_id)  # not matched by the script
    with pytest.raises(NylasApiError) as first:
        client.messages.send(empty.grant_id, body)
    with pytest.raises(NylasApiError) as second:
        client.messages.send(empty.grant_id, body)
    assert (first.value.status_code, first.value.headers["retry-after"]) == (429, "2")
    assert first.value.type == "rate_limit_error"
    assert (second.value.status_code, second.value.headers["retry-after"]) == (503, "1")
    assert client.messages.send(empty.grant_id, body).data.id
    assert empty.stats()["sends_delivered"] == {empty.grant_id: 1}
    assert empty.stats()["faults_injected"] == {"429": 1, "503": 1}


def test_script_count_repeats_a_step(empty, client):
    empty.set_faults(script=[{"status": 500, "count": 3}])
    codes = []
    for _ in range(4):
        try:
            client.messages.list(empty.grant_id)
            codes.append(200)
        except NylasApiError as exc:
            codes.append(exc.status_code)
    assert codes == [500, 500, 500, 200]


def test_html_502_is_not_json(empty, client):
    empty.set_faults(html_502_rate=1.0)
    with pytest.raises(requests.exceptions.JSONDecodeError):
        client.messages.list(empty.grant_id)
    raw = empty.admin("GET", f"/v3/grants/{empty.grant_id}/messages")
    assert raw.status_code == 502 and raw.headers["content-type"].startswith("text/html")
    empty.set_faults(html_502_rate=0)
    assert client.messages.list(empty.grant_id).data == []


def test_rates_are_seeded_and_roughly_honoured(make_sandbox):
    def run():
        sb = make_sandbox(messages=0, seed=3, faults={"rate_429": 0.3, "rate_5xx": 0.2})
        return [sb.admin("GET", f"/v3/grants/{sb.grant_id}/folders").status_code
                for _ in range(200)]

    first, second = run(), run()
    assert first == second
    share_429 = first.count(429) / 200
    share_5xx = sum(1 for c in first if c >= 500) / 200
    assert 0.2 < share_429 < 0.4 and 0.08 < share_5xx < 0.25
    assert all(c in (200, 429, 500, 502, 503, 504) for c in first)


def test_slow_responses_outlast_a_client_timeout(empty):
    empty.set_faults(slow_ms=1500)
    impatient = nylas.Client(empty.api_key, api_uri=empty.api_uri, timeout=1)
    with pytest.raises(NylasSdkTimeoutError):
        impatient.messages.list(empty.grant_id)


def test_latency_is_added_to_every_api_request(empty, client):
    empty.set_faults(latency_ms=120)
    started = time.perf_counter()
    client.folders.list(empty.grant_id)
    assert time.perf_counter() - started >= 0.12


def test_id_churn_404s_the_first_get_only(empty, client):
    ids = fill(empty, 5)
    empty.set_faults(id_churn_rate=1.0)
    for mid in ids:
        with pytest.raises(NylasApiError) as err:
            client.messages.find(empty.grant_id, mid)
        assert err.value.status_code == 404
        assert client.messages.find(empty.grant_id, mid).data.id == mid


def test_admin_refuses_bad_settings_and_needs_the_key(empty):
    bad = empty.admin("POST", "/admin/faults", {"rate_429": 7})
    assert bad.status_code == 400 and "rate_429" in bad.json()["error"]["message"]
    unknown = empty.admin("POST", "/admin/faults", {"explode": True})
    assert unknown.status_code == 400
    anonymous = httpx.post(f"{empty.api_uri}/admin/faults", json={"rate_429": 1}, trust_env=False)
    assert anonymous.status_code == 401
    assert empty.admin("GET", "/admin/faults").json()["data"]["rate_429"] == 0


def test_faults_from_options_apply_from_the_start(make_sandbox):
    sb = make_sandbox(messages=0, faults={"rate_429": 1.0, "retry_after_s": 3})
    response = sb.admin("GET", f"/v3/grants/{sb.grant_id}")
    assert response.status_code == 429 and response.headers["retry-after"] == "3"


def test_reset_clears_every_fault(empty):
    empty.set_faults(rate_429=1.0, latency_ms=50, script=[{"status": 500}])
    settings = empty.set_faults(reset=True)
    assert settings["rate_429"] == 0 and settings["latency_ms"] == 0 and settings["script"] == []
    assert empty.admin("GET", f"/v3/grants/{empty.grant_id}").status_code == 200


def test_fixture_accepts_cli_style_aliases(make_sandbox):
    sb = make_sandbox(messages=0, email="bot@corp.example", grant_id="g-x", latency_ms=30,
                      rate_429=0.0)
    assert sb.grant_ids == ["g-x"] and sb.email == "bot@corp.example"
    assert sb.admin("GET", "/admin/faults").json()["data"]["latency_ms"] == 30
