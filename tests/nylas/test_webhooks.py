"""Webhook signature, envelope, freshness and challenge checks on raw bytes."""

from __future__ import annotations

import hashlib
import hmac
import json
import random

import pytest

from triage_tui.nylas.webhooks import (
    BadChallenge,
    BadEnvelope,
    BodyTooLarge,
    challenge_response,
    ensure_size,
    is_fresh,
    parse_envelope,
    verify_signature,
)

SECRET = "whsec-triage-test-secret"
BODY = (
    b'{"specversion":"1.0","type":"message.created","source":"/nylas/emails/realtime",'
    b'"id":"evt_1","time":1733945164,"webhook_delivery_attempt":1,"data":{"application_id":"app",'
    b'"object":{"id":"msg_1","grant_id":"grant_1","object":"message","subject":"Caf\xc3\xa9"}}}'
)
# Pinned: hex HMAC-SHA256(SECRET, BODY), cross-checked with `openssl dgst -sha256 -hmac`.
BODY_SIGNATURE = "180e596f553f501b46a5da4e20ce56babc17b89fbb99eb18eb322dccfae7716e"
CAP = 2 * 1024 * 1024


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_known_answer_vector_is_pinned():
    assert sign(BODY) == BODY_SIGNATURE
    assert verify_signature(BODY, BODY_SIGNATURE, [SECRET], max_bytes=CAP) is True


def test_github_documented_vector():
    expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    secrets = ["It's a Secret to Everybody"]
    assert verify_signature(b"Hello, World!", expected, secrets, max_bytes=100) is True
    assert verify_signature(b"Hello, World!", "sha256=" + expected, secrets, max_bytes=100) is True
    assert verify_signature(b"Hello, World?", expected, secrets, max_bytes=100) is False


def test_signature_as_bytes_and_uppercase_header_accepted():
    assert verify_signature(BODY, BODY_SIGNATURE.encode(), [SECRET], max_bytes=CAP)
    assert verify_signature(BODY, "  " + BODY_SIGNATURE.upper() + "\n", [SECRET], max_bytes=CAP)


def test_reserialised_body_is_rejected():
    reserialised = json.dumps(json.loads(BODY)).encode()
    assert reserialised != BODY
    assert verify_signature(reserialised, BODY_SIGNATURE, [SECRET], max_bytes=CAP) is False


def test_rotation_accepts_old_and_new_secret_only():
    old, new = "old-secret", "new-secret"
    assert verify_signature(BODY, sign(BODY, old), [new, old], max_bytes=CAP)
    assert verify_signature(BODY, sign(BODY, new), [new, old], max_bytes=CAP)
    assert not verify_signature(BODY, sign(BODY, old), [new], max_bytes=CAP)
    assert not verify_signature(BODY, sign(BODY, "third"), [new, old], max_bytes=CAP)
    assert not verify_signature(BODY, sign(BODY, new), [], max_bytes=CAP)
    assert not verify_signature(BODY, sign(BODY, new), ["", ""], max_bytes=CAP)


@pytest.mark.parametrize(
    "header",
    [
        None, "", " ", "sha256=", "zz" * 32, BODY_SIGNATURE[:-1], BODY_SIGNATURE + "0",
        BODY_SIGNATURE[:-1] + "é", "é" * 64, "\u0663" * 64, "ｆ" * 64, BODY_SIGNATURE + "\x00",
        b"\xff" * 64, b"\x00" * 64, 12345, ["a"], "v1," + BODY_SIGNATURE, "t=1," + BODY_SIGNATURE,
        BODY_SIGNATURE + "," + BODY_SIGNATURE,
    ],
)
def test_malformed_and_non_ascii_headers_are_refused(header):
    assert verify_signature(BODY, header, [SECRET], max_bytes=CAP) is False


def test_size_cap_is_checked_before_hmac():
    big = b"x" * 1001
    assert verify_signature(big, sign(big), [SECRET], max_bytes=1001) is True
    assert verify_signature(big, sign(big), [SECRET], max_bytes=1000) is False
    with pytest.raises(BodyTooLarge):
        ensure_size(1001, 1000)
    ensure_size(1000, 1000)
    ensure_size(None, 1000)


def test_non_bytes_body_is_refused_not_raised():
    assert verify_signature(BODY.decode(), BODY_SIGNATURE, [SECRET], max_bytes=CAP) is False
    assert verify_signature(None, BODY_SIGNATURE, [SECRET], max_bytes=CAP) is False  # type: ignore[arg-type]


def test_ten_thousand_random_and_bit_flipped_signatures_never_accepted():
    rng = random.Random(20261127)
    good = bytes.fromhex(BODY_SIGNATURE)
    accepted = errors = 0
    for index in range(10_000):
        kind = index % 4
        if kind == 0:
            header = rng.randbytes(32).hex()
        elif kind == 1:
            flipped = bytearray(good)
            bit = rng.randrange(256)
            flipped[bit // 8] ^= 1 << (bit % 8)
            header = bytes(flipped).hex()
        elif kind == 2:
            header = rng.randbytes(rng.randrange(0, 80))
        else:
            header = "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(0, 70)))
        body = BODY
        if index % 7 == 0:
            body = bytearray(BODY)
            body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
            body = bytes(body)
            header = BODY_SIGNATURE
        try:
            if verify_signature(body, header, [SECRET], max_bytes=CAP):
                accepted += 1
        except Exception:  # noqa: BLE001 - counting is the point
            errors += 1
    assert (accepted, errors) == (0, 0)


def test_parse_envelope_gives_typed_ids():
    envelope = parse_envelope(BODY)
    assert envelope.id == "evt_1"
    assert envelope.type == "message.created"
    assert envelope.time == 1733945164
    assert envelope.grant_id == "grant_1"
    assert envelope.object_id == "msg_1"
    assert not envelope.truncated


def test_parse_envelope_grant_at_data_level_and_truncated_type():
    body = json.dumps({
        "id": "e2", "type": "message.created.truncated", "time": 1, "source": "/nylas/system",
        "data": {"grant_id": "g2", "object": {"id": "m2"}},
    }).encode()
    envelope = parse_envelope(body)
    assert (envelope.grant_id, envelope.object_id, envelope.truncated) == ("g2", "m2", True)


@pytest.mark.parametrize(
    "body",
    [
        b"", b"\xff\xfe", b"not json", b"[]", b"null", b'"x"', b"{}",
        b'{"id":"e","type":"message.created","time":1}',
        b'{"id":"e","type":"message.created","time":"soon","data":{"object":{"id":"m","grant_id":"g"}}}',
        b'{"id":"","type":"message.created","time":1,"data":{"object":{"id":"m","grant_id":"g"}}}',
        b'{"id":"e","type":"message.created","time":1,"data":{"object":{"id":"m"}}}',
        b'{"id":"e","type":"message.created","time":1,"data":{"object":{"grant_id":"g"}}}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_bad_envelopes_raise_bad_envelope(body):
    with pytest.raises(BadEnvelope):
        parse_envelope(body)


def test_freshness_window():
    envelope = parse_envelope(BODY)
    signed = envelope.time
    assert is_fresh(envelope, signed, 3600)
    assert is_fresh(envelope, signed + 3600, 3600)
    assert not is_fresh(envelope, signed + 3601, 3600)
    assert is_fresh(envelope, signed - 300, 3600)
    assert not is_fresh(envelope, signed - 301, 3600)


def test_challenge_is_echoed_byte_for_byte():
    assert challenge_response("abc123") == b"abc123"
    assert challenge_response("é ü+/=%20") == "é ü+/=%20".encode()
    assert challenge_response(b"\x00raw\xff") == b"\x00raw\xff"
    for bad in (None, "", "x" * 5000):
        with pytest.raises(BadChallenge):
            challenge_response(bad)


def test_a_single_secret_string_is_one_secret_not_many():
    assert verify_signature(BODY, BODY_SIGNATURE, SECRET, max_bytes=CAP)  # type: ignore[arg-type]
    one_char = hmac.new(SECRET[0].encode(), BODY, hashlib.sha256).hexdigest()
    assert not verify_signature(BODY, one_char, SECRET, max_bytes=CAP)  # type: ignore[arg-type]
