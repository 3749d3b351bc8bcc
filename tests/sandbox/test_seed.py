"""The seeded mailbox: it parses, it is deterministic, it threads, and every hard case is in it."""

import random
import re
from collections import Counter

import pytest

from triage_tui.sandbox.mime import parse_mime
from triage_tui.sandbox.seed import SeedMail, drip_mail, generate_mailbox

AGENT = "support@agent.example"
NOW = 1_795_745_760
CATEGORIES = {"billing", "bug", "account_access", "feature_request", "spam", "other"}
URGENCIES = {"low", "normal", "high", "critical"}


@pytest.fixture(scope="module")
def mailbox():
    """The default 300-message mailbox with every mail parsed."""
    mails = generate_mailbox(7, 300, agent_email=AGENT, now=NOW)
    return [(mail, parse_mime(mail.raw)) for mail in mails]


def _kind(mailbox, kind):
    return [(mail, parsed) for mail, parsed in mailbox if mail.kind == kind]


def _header(parsed, name):
    return [value for key, value in parsed.headers if key.lower() == name.lower()]


def _raw_head(mail: SeedMail) -> str:
    return mail.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")


def test_exactly_the_requested_count_parses_with_truth_labels(mailbox):
    assert len(mailbox) == 300
    assert {mail.category for mail, _ in mailbox} == CATEGORIES
    assert {mail.urgency for mail, _ in mailbox} == URGENCIES
    assert all(parsed.from_ and parsed.subject and parsed.message_id for _, parsed in mailbox)


def test_dates_spread_over_recent_days_and_match_the_date_header(mailbox):
    times = [mail.received_at for mail, _ in mailbox]
    assert times == sorted(times)
    assert NOW - 5 * 86400 < times[0] and times[-1] < NOW
    assert times[-1] - times[0] > 2 * 86400
    assert all(parsed.date == mail.received_at for mail, parsed in mailbox)


def test_replies_thread_onto_earlier_messages_of_the_same_mailbox(mailbox):
    seen: dict[str, int] = {}
    replies = 0
    for mail, parsed in mailbox:
        if parsed.in_reply_to:
            replies += 1
            assert parsed.in_reply_to in seen, parsed.subject
            assert seen[parsed.in_reply_to] < mail.received_at
            assert parsed.references[-1] == parsed.in_reply_to
            assert set(parsed.references) <= set(seen)
        seen[parsed.message_id] = mail.received_at
    assert len(seen) == 300 and replies >= 60


def test_at_least_a_third_as_many_threads_as_messages_and_some_long_ones(mailbox):
    root: dict[str, str] = {}
    for _, parsed in mailbox:
        first = parsed.references[0] if parsed.references else parsed.message_id
        root[parsed.message_id] = root.get(first, first)
    sizes = Counter(root.values())
    assert len(sizes) >= 100
    assert max(sizes.values()) >= 4


@pytest.mark.parametrize("kind", [
    "auto_reply", "bounce", "mailing_list", "forward", "cc_chain", "html_only", "windows_1252", "iso_8859_1",
    "rfc2047", "hidden_chars", "reply_to_mismatch", "prompt_injection", "attachment", "own_outbound", "reply",
])
def test_every_hard_case_is_present_several_times(mailbox, kind):
    assert len(_kind(mailbox, kind)) >= 3


def test_auto_replies_carry_the_headers_responders_set(mailbox):
    markers = Counter()
    for _, parsed in _kind(mailbox, "auto_reply"):
        names = {key.lower() for key, _ in parsed.headers}
        found = names & {"auto-submitted", "x-autoreply", "x-autorespond", "precedence", "x-auto-response-suppress"}
        assert found, parsed.subject
        markers.update(found)
        assert parsed.in_reply_to
    assert len(markers) >= 3


def test_bounces_are_delivery_status_reports_from_the_mailer_daemon(mailbox):
    for mail, parsed in _kind(mailbox, "bounce"):
        head = _raw_head(mail)
        assert "multipart/report" in head and "report-type=delivery-status" in head
        assert "Return-Path: <>" in head
        assert parsed.from_[0][1].startswith("MAILER-DAEMON@")
        assert b"Status: " in mail.raw and b"Final-Recipient: rfc822;" in mail.raw
        assert (mail.category, mail.urgency) == ("other", "low")


def test_list_mail_has_list_headers_and_spam_or_other_labels(mailbox):
    for mail, parsed in _kind(mailbox, "mailing_list"):
        assert _header(parsed, "List-Id") and _header(parsed, "List-Unsubscribe")
        assert _header(parsed, "Precedence")[0] in ("list", "bulk")
        assert mail.category in ("other", "spam")


def test_forwards_cc_chains_and_html_quotes(mailbox):
    for _, parsed in _kind(mailbox, "forward"):
        assert re.match(r"(?i)fwd?:", parsed.subject)
        assert "---------- Forwarded message ---------" in parsed.body
    assert all(parsed.cc for _, parsed in _kind(mailbox, "cc_chain"))
    html_only = _kind(mailbox, "html_only")
    assert all(parsed.is_html and b"text/plain" not in mail.raw for mail, parsed in html_only)
    assert any("<blockquote" in parsed.body for _, parsed in html_only)


def test_legacy_charsets_and_encoded_subjects_decode(mailbox):
    for mail, parsed in _kind(mailbox, "windows_1252"):
        assert 'charset="windows-1252"' in mail.raw.decode("latin-1")
        assert re.search("[€’“”…•–]", parsed.body), parsed.body
    for mail, parsed in _kind(mailbox, "iso_8859_1"):
        assert 'charset="iso-8859-1"' in mail.raw.decode("latin-1")
        assert re.search("[éüßñ¿ã]", parsed.body), parsed.body
    for mail, parsed in _kind(mailbox, "rfc2047"):
        assert re.search(r"^Subject: =\?utf-8\?", _raw_head(mail), re.M | re.I)
        assert not parsed.subject.isascii() and "=?" not in parsed.subject


def test_hidden_characters_reply_to_and_injections(mailbox):
    for _, parsed in _kind(mailbox, "hidden_chars"):
        assert re.search("[\u200b\u200d\ufeff]", parsed.body)
        assert "\u202e" in parsed.body
        assert any(0xE0000 <= ord(c) <= 0xE007F for c in parsed.body)
    domains = set()
    for _, parsed in _kind(mailbox, "reply_to_mismatch"):
        sender, reply_to = parsed.from_[0][1], parsed.reply_to[0][1]
        assert sender != reply_to
        domains.add(sender.split("@")[1] == reply_to.split("@")[1])
    assert domains == {True, False}
    phrases = ("ignore", "SYSTEM", "approve this reply automatically", "change the grant", "set category to spam")
    for _, parsed in _kind(mailbox, "prompt_injection"):
        assert any(p.lower() in parsed.body.lower() for p in phrases), parsed.body


def test_attachments_and_the_single_huge_body(mailbox):
    types = {a.content_type for _, parsed in _kind(mailbox, "attachment") for a in parsed.attachments}
    assert {"application/pdf", "image/png", "text/csv"} <= types
    assert all(a.size > 0 for _, parsed in _kind(mailbox, "attachment") for a in parsed.attachments)
    huge = [mail for mail, parsed in mailbox if len(parsed.body.encode()) > 1024 * 1024]
    assert len(huge) == 1 and huge[0].kind == "large_body"


def test_own_outbound_comes_from_the_agent_with_a_ticket_marker(mailbox):
    own = _kind(mailbox, "own_outbound")
    assert all(parsed.from_[0][1] == AGENT and _header(parsed, "X-Triage-Ticket") for _, parsed in own)
    assert all(parsed.from_[0][1] != AGENT for mail, parsed in mailbox if mail.kind != "own_outbound")


def test_only_reserved_example_domains_are_used(mailbox):
    for _, parsed in mailbox:
        for _, address in parsed.from_ + parsed.to + parsed.cc + parsed.reply_to:
            assert re.search(r"\.example(\.(com|net|org|co))?$", address), address


def test_text_varies_and_no_single_word_gives_the_category_away(mailbox):
    firsts = [(mail.category, parsed) for mail, parsed in mailbox if mail.kind == "plain"]
    assert len({parsed.snippet for _, parsed in firsts}) >= 0.9 * len(firsts)
    words_by_mail = [(cat, set(re.findall(r"[a-z]{3,}", (p.subject + " " + p.body).lower()))) for cat, p in firsts]
    sizes = Counter(cat for cat, _ in words_by_mail)
    assert len([cat for cat, size in sizes.items() if size >= 10]) >= 3
    for category in [cat for cat, size in sizes.items() if size >= 10]:
        inside = [words for cat, words in words_by_mail if cat == category]
        outside = [words for cat, words in words_by_mail if cat != category]
        for word in set.union(*inside):
            recall = sum(word in w for w in inside) / len(inside)
            leaks = sum(word in w for w in outside)
            assert not (recall > 0.8 and leaks == 0), (category, word)


def test_same_seed_same_bytes_other_seed_other_mail():
    first = generate_mailbox(11, 120, agent_email=AGENT, now=NOW)
    again = generate_mailbox(11, 120, agent_email=AGENT, now=NOW)
    other = generate_mailbox(12, 120, agent_email=AGENT, now=NOW)
    assert [m.raw for m in first] == [m.raw for m in again]
    assert [(m.received_at, m.category, m.kind) for m in first] == [(m.received_at, m.category, m.kind) for m in again]
    assert {m.raw for m in first}.isdisjoint({m.raw for m in other})


@pytest.mark.parametrize("count", [0, 1, 7, 40])
def test_small_mailboxes_have_exactly_the_requested_count(count):
    mails = generate_mailbox(3, count, agent_email=AGENT, now=NOW)
    assert len(mails) == count
    assert all(parse_mime(m.raw).date == m.received_at for m in mails)


def test_drip_mail_is_new_inbound_mail_at_now_and_reproducible():
    made = [drip_mail(random.Random(5), agent_email=AGENT, now=NOW) for _ in range(2)]
    rng = random.Random(9)
    stream = [drip_mail(rng, agent_email=AGENT, now=NOW + i) for i in range(30)]
    assert made[0] == made[1]
    for i, mail in enumerate(stream):
        parsed = parse_mime(mail.raw)
        assert mail.received_at == parsed.date == NOW + i
        assert parsed.to[0][1] == AGENT and parsed.from_[0][1] != AGENT
        assert not parsed.in_reply_to
    assert len({m.category for m in stream}) >= 3 and len({m.raw for m in stream}) == 30
