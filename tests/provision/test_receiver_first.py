"""`triage-tui webhook --challenge-only`: the receiver can answer Nylas's challenge before init has a secret."""

from __future__ import annotations

import hashlib
import hmac

import uvicorn
from starlette.testclient import TestClient

from tests.provision.conftest import cli


def test_challenge_only_answers_the_challenge_and_refuses_every_notification(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("TRIAGE_TUI_CONFIG", raising=False)
    monkeypatch.delenv("NYLAS_WEBHOOK_SECRET", raising=False)
    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.update(app=app, **kwargs))
    refused = cli("webhook")
    assert refused.exit_code == 2 and "--challenge-only" in refused.stderr
    started = cli("webhook", "--challenge-only", "--port", "0")
    assert started.exit_code == 0 and "answering challenges only" in started.stdout
    client = TestClient(served["app"])
    assert client.get("/webhooks/nylas", params={"challenge": "abc123"}).text == "abc123"
    body = b'{"specversion":"1.0","type":"message.created","id":"e1","time":1,"data":{}}'
    for secret in ("", "guess"):
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        response = client.post("/webhooks/nylas", content=body, headers={"X-Nylas-Signature": signature})
        assert response.status_code == 401
