"""The LLM classifier against a local OpenAI-compatible server that also misbehaves."""

from __future__ import annotations

import time

import pytest

from triage_tui.classify.labels import Labels
from triage_tui.classify.llm import LLMClassifier, datamark
from triage_tui.config import LLM_API_KEY_ENV, ClassifierConfig, LLMConfig

from tests.classify.corpus import message
from tests.classify.fake_llm import FakeLLM

CONFIG = ClassifierConfig()
LABELS = Labels(tuple(CONFIG.categories), tuple(CONFIG.urgencies), CONFIG.min_confidence)


def llm_for(server: FakeLLM, timeout: float = 5.0, max_chars: int = 32_000) -> LLMClassifier:
    config = LLMConfig(base_url=server.url, model="fake-1", timeout_s=timeout,
                       max_input_chars=max_chars)
    return LLMClassifier(config, LABELS)


def test_good_answer_becomes_a_suggestion(fake_llm: FakeLLM) -> None:
    llm = llm_for(fake_llm)
    s = llm.classify(message("Refund", "Please refund my last payment"))
    assert (s.category, s.urgency, s.needs_human) == ("billing", "normal", False)
    assert s.confidence == pytest.approx(0.9)
    assert s.classification_version == llm.version and llm.version.startswith("llm-")
    assert "fake-1 chose billing/normal" in s.reasons[0]


def test_request_is_strict_schema_temperature_zero_no_tools_and_datamarked(
    fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LLM_API_KEY_ENV, "sk-test-123")
    llm = llm_for(fake_llm)
    llm.classify(message("Crash report", "The app crashes on save"))
    llm.classify(message("Crash report", "The app crashes on save"))
    body = fake_llm.requests[0]
    assert body["temperature"] == 0 and body["model"] == "fake-1"
    assert "tools" not in body and "functions" not in body
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["properties"]["category"]["enum"] == CONFIG.categories
    assert schema["properties"]["urgency"]["enum"] == CONFIG.urgencies
    assert schema["additionalProperties"] is False
    user = body["messages"][1]["content"]
    assert "The app crashes on save" not in user  # spaces replaced by the datamark
    marks = [r["messages"][1]["content"].split(">", 1)[0] for r in fake_llm.requests]
    assert marks[0] != marks[1]  # a fresh random mark per request
    assert fake_llm.headers[0]["authorization"] == "Bearer sk-test-123"
    assert len(body["messages"]) == 2  # only this message, nothing else


def test_datamark_removes_the_mark_from_untrusted_text() -> None:
    assert datamark("pay ^ab12 now\n\tplease", "^ab12") == "pay^ab12now^ab12please"


@pytest.mark.parametrize(
    ("mode", "fragment"),
    [
        ("truncated", "finish_reason 'length'"),
        ("truncated_but_stop", "not valid JSON"),
        ("junk", "not valid JSON"),
        ("out_of_enum", "not valid JSON within the allowed values"),
        ("extra_field", "allowed values"),
        ("bad_confidence", "allowed values"),
        ("refusal", "refused"),
        ("no_choices", "malformed"),
        ("not_json", "malformed"),
        ("error500", "HTTP 500"),
    ],
)
def test_every_misbehaviour_becomes_needs_human(
    fake_llm: FakeLLM, mode: str, fragment: str
) -> None:
    fake_llm.mode = mode
    s = llm_for(fake_llm).classify(message("Refund", "Please refund my payment"))
    assert s.needs_human and s.category == "other" and s.confidence == 0.0
    assert fragment in s.reasons[0]


def test_slow_server_times_out_into_needs_human(fake_llm: FakeLLM) -> None:
    fake_llm.mode = "slow"
    started = time.monotonic()
    s = llm_for(fake_llm, timeout=0.3).classify(message("Refund", "Please refund"))
    assert time.monotonic() - started < 1.0
    assert s.needs_human and "timed out" in s.reasons[0]


def test_unreachable_endpoint_becomes_needs_human() -> None:
    config = LLMConfig(base_url="http://127.0.0.1:9", model="m", timeout_s=1)
    s = LLMClassifier(config, LABELS).classify(message("Refund", "Please refund"))
    assert s.needs_human and "unreachable" in s.reasons[0]


def test_long_text_is_cut_before_it_is_sent(fake_llm: FakeLLM) -> None:
    llm_for(fake_llm, max_chars=200).classify(message("Refund", "refund " * 5000))
    assert len(fake_llm.requests[0]["messages"][1]["content"]) < 200 * 3


def test_base_url_with_v1_suffix_is_not_doubled(fake_llm: FakeLLM) -> None:
    llm = LLMClassifier(LLMConfig(base_url=fake_llm.url + "/v1/", model="m"), LABELS)
    assert llm.url == fake_llm.url + "/v1/chat/completions"
    assert not llm.classify(message("Refund", "Please refund my payment")).needs_human
