"""parse_mime on odd, legacy and broken mail: it degrades, it never raises on real mail."""

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage_tui.sandbox.mime import MimeError, parse_mime


def _mail(headers: str, body: bytes = b"hello\r\n") -> bytes:
    return headers.replace("\n", "\r\n").encode("latin-1") + b"\r\n" + body


def test_rfc2047_subject_and_names_decode_to_readable_text():
    raw = _mail(
        "From: =?iso-8859-1?q?Jos=E9_N=FA=F1ez?= <jose@a.example>, \"Doe, Jane\" <jane@b.example>\n"
        "To: support@agent.example\n"
        "Subject: =?utf-8?b?UsOpY2xhbWF0aW9uIGZhY3R1cmU=?= =?windows-1252?q?=93urgent=94?=\n"
        "Date: Fri, 27 Nov 2026 03:16:00 +0100\n"
    )
    mail = parse_mime(raw)
    assert mail.subject == "Réclamation facture“urgent”"
    assert mail.from_ == [("José Núñez", "jose@a.example"), ("Doe, Jane", "jane@b.example")]
    assert mail.to == [("", "support@agent.example")]
    assert mail.date == 1795745760


def test_windows_1252_and_latin1_bodies_decode_to_the_right_characters():
    cp1252 = _mail("From: a@a.example\nContent-Type: text/plain; charset=windows-1252\n",
                   "Total \u20ac 5 \u2013 \u201cquoted\u201d caf\xe9\r\n".encode("cp1252"))
    latin1 = _mail("From: a@a.example\nContent-Type: text/plain; charset=ISO-8859-1\n"
                   "Content-Transfer-Encoding: quoted-printable\n", b"Gr=FC=DFe aus M=FCnchen\r\n")
    assert parse_mime(cp1252).body.strip() == "Total € 5 – “quoted” café"
    assert parse_mime(latin1).body.strip() == "Grüße aus München"


def test_raw_8bit_headers_and_unknown_charsets_degrade_without_raising():
    raw = ("From: Jörg <j@a.example>\r\nSubject: Grüße \xe9t\xe9\r\n"
           "Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n").encode("utf-8") + b"caf\xe9 ok\r\n"
    mail = parse_mime(raw)
    assert mail.from_ == [("Jörg", "j@a.example")]
    assert mail.subject.startswith("Grüße")
    assert mail.body.strip() == "café ok"  # utf-8 fails, windows-1252 fallback


def test_malformed_encoded_words_base64_and_dates_do_not_raise():
    raw = _mail("From: x@a.example\nSubject: =?utf-8?b?!!!not-base64?= plain\nDate: yesterday-ish\n"
                "Content-Transfer-Encoding: base64\n", b"%%% not base64 %%%\r\n")
    mail = parse_mime(raw)
    assert mail.date is None
    assert "plain" in mail.subject


def test_html_body_is_preferred_and_the_snippet_is_stripped_text():
    html = "<html><head><style>p{color:red}</style></head><body><p>Hello&nbsp;<b>there</b></p>" + "<p>x</p>" * 200
    raw = _mail(
        "From: a@a.example\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"B\"\n",
        ("--B\r\nContent-Type: text/plain\r\n\r\nplain version\r\n--B\r\nContent-Type: text/html\r\n\r\n"
         f"{html}\r\n--B--\r\n").encode(),
    )
    mail = parse_mime(raw)
    assert mail.is_html and mail.body.startswith("<html>")
    assert mail.snippet.startswith("Hello there x x")
    assert "color" not in mail.snippet and 98 <= len(mail.snippet) <= 100


def test_attachments_inline_parts_and_threading_headers():
    pdf = base64.b64encode(b"%PDF-1.4 tiny").decode()
    raw = _mail(
        "From: a@a.example\nMessage-ID: <m2@a.example>\nIn-Reply-To: <m1@a.example>\n"
        "References: <m0@a.example>\n <m1@a.example>\nContent-Type: multipart/mixed; boundary=\"B\"\n",
        ("--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
         f"--B\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\n"
         f"Content-Transfer-Encoding: base64\r\n\r\n{pdf}\r\n"
         "--B\r\nContent-Type: image/png\r\nContent-ID: <logo@a>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n"
         "--B--\r\n").encode(),
    )
    mail = parse_mime(raw)
    assert mail.body.strip() == "see attached"
    assert [(a.filename, a.content_type, a.size, a.is_inline) for a in mail.attachments] == [
        ("a.pdf", "application/pdf", 13, False), ("", "image/png", 4, True)]
    assert mail.attachments[1].content_id == "<logo@a>"
    assert (mail.message_id, mail.in_reply_to, mail.references) == ("<m2@a.example>", "<m1@a.example>",
                                                                     ["<m0@a.example>", "<m1@a.example>"])
    assert ("References", "<m0@a.example> <m1@a.example>") in mail.headers


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"just some words", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "x"])
def test_what_is_not_mail_raises_mime_error(raw):
    with pytest.raises(MimeError):
        parse_mime(raw)


def _corpus():
    from triage_tui.sandbox.seed import generate_mailbox

    return [m.raw for m in generate_mailbox(5, 40, agent_email="support@agent.example", now=1_795_745_760)
            if len(m.raw) < 200_000]


CORPUS = _corpus()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(CORPUS) - 1), cuts=st.lists(st.tuples(st.floats(0, 1), st.binary(max_size=8)),
                                                               max_size=6))
def test_corrupted_generated_mail_never_raises_anything_but_mime_error(index, cuts):
    raw = bytearray(CORPUS[index])
    for where, junk in cuts:
        at = int(where * len(raw))
        raw[at:at + len(junk)] = junk
    try:
        mail = parse_mime(bytes(raw))
    except MimeError:
        return
    assert isinstance(mail.body, str) and len(mail.snippet) <= 100


def test_an_attached_message_is_an_attachment_not_the_body():
    inner = b"From: old@b.example\r\nSubject: inner\r\nContent-Type: text/html\r\n\r\n<p>inner html</p>\r\n"
    raw = _mail(
        "From: a@a.example\nContent-Type: multipart/mixed; boundary=\"B\"\n",
        b"--B\r\nContent-Type: text/plain\r\n\r\nouter text\r\n--B\r\nContent-Type: message/rfc822\r\n\r\n"
        + inner + b"--B--\r\n",
    )
    mail = parse_mime(raw)
    assert (mail.body.strip(), mail.is_html) == ("outer text", False)
    assert [(a.filename, a.content_type) for a in mail.attachments] == [("forwarded.eml", "message/rfc822")]
    assert mail.attachments[0].size > 40


def test_deeply_nested_multiparts_are_walked_without_recursion():
    depth = 400
    opening = b"".join(f"--b{i}\r\nContent-Type: multipart/mixed; boundary=\"b{i + 1}\"\r\n\r\n".encode()
                       for i in range(depth))
    closing = b"".join(f"--b{i}--\r\n".encode() for i in reversed(range(depth)))
    raw = _mail("From: a@a.example\nContent-Type: multipart/mixed; boundary=\"b0\"\n",
                opening + f"--b{depth}\r\nContent-Type: text/plain\r\n\r\ndeep\r\n--b{depth}--\r\n".encode() + closing)
    assert parse_mime(raw).body.strip() == "deep"
