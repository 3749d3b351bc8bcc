"""The hard cases of the seeded mailbox: auto-replies, bounces, list mail, attachments, huge bodies."""

from __future__ import annotations

import random
import struct
import zlib

from triage_tui.sandbox.seed_corpus import FEATURES, LIST_DIGESTS
from triage_tui.sandbox.seed_render import Part, binary_part, multipart, raw_part, text_part

LARGE_BODY_BYTES = 1_100_000

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG_BYTES = _png(16, 12, (200, 40, 40))

# (subject prefix, headers) for the auto-responders people and ticket systems run.
AUTO_REPLY_STYLES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Automatic reply: ", (("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All"),
                           ("X-MS-Exchange-Inbox-Rules-Loop", "{email}"))),
    ("Out of Office: ", (("X-Autoreply", "yes"), ("Precedence", "junk"))),
    ("Auto: ", (("Auto-Submitted", "auto-replied (vacation)"), ("Precedence", "bulk"))),
    ("[Ticket #{ticket_num}] Received: ", (("X-Autorespond", "ticket-ack"), ("Precedence", "bulk"),
                                            ("Auto-Submitted", "auto-generated"))),
)


def csv_bytes(rng: random.Random, rows: int) -> bytes:
    """A small usage export."""
    lines = ["date,user,events,errors"]
    for i in range(rows):
        lines.append(f"2026-11-{1 + i % 28:02d},user{rng.randrange(1, 60)},{rng.randrange(0, 900)},{rng.randrange(0, 9)}")
    return ("\n".join(lines) + "\n").encode()


def attachments_for(rng: random.Random, category: str, turn: int) -> list[Part]:
    """One to three attachments that suit the mail's topic; `turn` rotates which type is certain."""
    parts: list[Part] = []
    if category == "billing" or turn % 3 == 0 or rng.random() < 0.2:
        parts.append(binary_part("application/pdf", f"invoice-{rng.randrange(1000, 9999)}.pdf", PDF_BYTES))
    if category == "bug" or turn % 3 == 1 or rng.random() < 0.2:
        parts.append(binary_part("image/png", f"screenshot-{rng.randrange(100, 999)}.png", PNG_BYTES))
    if turn % 3 == 2 or rng.random() < 0.2:
        parts.append(binary_part("text/csv", "usage-export.csv", csv_bytes(rng, rng.randrange(3, 20))))
    return parts


def inline_image(rng: random.Random, domain: str) -> tuple[Part, str]:
    """An inline PNG referenced from HTML by Content-ID, with the <img> tag to use."""
    cid = f"logo.{rng.getrandbits(32):08x}@{domain}"
    return binary_part("image/png", "logo.png", PNG_BYTES, f"<{cid}>"), f'<img src="cid:{cid}" alt="logo">'


def bounce_part(rng: random.Random, boundary: str, mta: str, recipient: str, original_headers: str,
                when: str) -> Part:
    """A multipart/report delivery-status notification for a failed recipient."""
    status, diagnostic = rng.choice((
        ("5.1.1", "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table"),
        ("5.2.2", "552 5.2.2 <{r}>: Mailbox full"),
        ("5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient {r} not found by SMTP address lookup"),
        ("4.4.7", "Message expired: unable to deliver in 48 hours to <{r}>"),
    ))
    human = (
        f"This is the mail system at host {mta}.\n\nI'm sorry to have to inform you that your message could not\n"
        f"be delivered to one or more recipients.\n\n<{recipient}>: {diagnostic.format(r=recipient)}\n"
    )
    dsn = (
        f"Reporting-MTA: dns; {mta}\nArrival-Date: {when}\n\n"
        f"Final-Recipient: rfc822; {recipient}\nOriginal-Recipient: rfc822; {recipient}\n"
        f"Action: {'delayed' if status.startswith('4') else 'failed'}\nStatus: {status}\n"
        f"Diagnostic-Code: smtp; {diagnostic.format(r=recipient)}\n"
    )
    parts = [text_part("plain", human), raw_part("message/delivery-status", dsn),
             raw_part("text/rfc822-headers", original_headers)]
    return multipart("report", parts, boundary, "report-type=delivery-status")


def big_log(rng: random.Random, min_bytes: int = LARGE_BODY_BYTES) -> str:
    """A pasted log dump larger than min_bytes."""
    lines: list[str] = []
    size = 0
    services = ("api-gw", "worker", "scheduler", "export", "auth")
    second = 0
    while size < min_bytes:
        second += rng.randrange(0, 3)
        line = (
            f"2026-11-24T10:{second // 60 % 60:02d}:{second % 60:02d}.{rng.randrange(1000):03d}Z "
            f"{rng.choice(('ERROR', 'WARN', 'ERROR', 'INFO'))} {rng.choice(services)}-{rng.randrange(1, 9)} "
            f"request_id={rng.getrandbits(64):016x} status={rng.choice((502, 503, 500, 200))} "
            f"latency_ms={rng.randrange(3, 30000)} msg=\"upstream connect error or disconnect/reset before headers\""
        )
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def list_mail(rng: random.Random, agent_email: str) -> tuple[tuple[str, str, str, str], str, str,
                                                             tuple[tuple[str, str], ...], str]:
    """A newsletter or marketing-list mail: (name, email, company, domain), subject, text, headers, category."""
    name, sender_email, list_id, category, blurb = rng.choice(LIST_DIGESTS)
    domain = sender_email.rpartition("@")[2]
    token = f"{rng.getrandbits(48):012x}"
    text = (f"{name} - issue #{rng.randrange(10, 400)}\n\n{blurb.format(feature=rng.choice(FEATURES))}\n\n"
            f"You are receiving this because {agent_email} subscribed to {name}.\n"
            f"Unsubscribe: https://{domain}/unsubscribe?u={token}")
    headers = (
        ("List-Id", f"{name} <{list_id}>"),
        ("List-Unsubscribe", f"<mailto:unsubscribe@{domain}?subject=unsubscribe>, <https://{domain}/unsubscribe?u={token}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Precedence", "list" if category == "other" else "bulk"),
        ("X-Campaign-Id", token),
    )
    topics = ("This week in ops", "Issue digest", "Your weekly update") if category == "other" else (
        "Offers inside", "Last chance: 80% off", "Your exclusive deal")
    subject = f"{name}: {rng.choice(topics)}"
    return (name, sender_email, name, domain), subject, text, headers, category
