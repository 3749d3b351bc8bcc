"""What an approval binds to: header-safe text and the content hash of exactly what was seen."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Iterable

from triage_tui.domain import Address

# CR, LF and NUL (plus the other C0/C1 controls and Unicode line separators) never reach a header.
_HEADER_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
MAX_SUBJECT = 998


class ContentError(ValueError):
    """Text that cannot be sent as it is; the message says which field and why."""


def header_safe(value: str) -> str:
    """Text for a header: controls become spaces, runs of blanks collapse, ends trimmed."""
    return " ".join(_HEADER_UNSAFE.sub(" ", value or "").split())


def is_header_safe(value: str) -> bool:
    """True when the text already holds no control character."""
    return not _HEADER_UNSAFE.search(value or "")


def valid_email(email: str) -> bool:
    """A plain addr-spec: no blanks, controls, commas or angle brackets that could smuggle more."""
    return bool(email) and len(email) <= 254 and bool(_EMAIL.match(email))


def normalise_email(email: str) -> str:
    """Lower-cased, trimmed address used for comparisons."""
    return (email or "").strip().lower()


def reply_subject(original: str) -> str:
    """`Re: <subject>` made header-safe, without stacking `Re:` prefixes."""
    subject = header_safe(original)
    if not re.match(r"(?i)^re\s*:", subject):
        subject = f"Re: {subject}" if subject else "Re: your message"
    return subject[:MAX_SUBJECT]


def safe_address(address: Address) -> Address:
    """An address whose display name cannot inject a header."""
    return Address(email=normalise_email(address.email), name=header_safe(address.name)[:200])


def check_sendable(subject: str, body: str, addresses: Iterable[Address]) -> None:
    """Raise ContentError when a subject, name or address could break or inject a header."""
    if not is_header_safe(subject):
        raise ContentError("the subject holds a control character (CR, LF, NUL or similar)")
    if len(subject) > MAX_SUBJECT:
        raise ContentError(f"the subject is longer than {MAX_SUBJECT} characters")
    if "\x00" in body:
        raise ContentError("the body holds a NUL character")
    for address in addresses:
        if not valid_email(address.email):
            raise ContentError(f"not a plain email address: {address.email!r}")
        if not is_header_safe(address.name):
            raise ContentError(f"the name of {address.email} holds a control character")


def content_hash(
    *,
    grant_id: str,
    to: Iterable[Address],
    cc: Iterable[Address],
    subject: str,
    body: str,
    reply_to_message_id: str,
) -> str:
    """sha256 of exactly what the approver saw: grant, recipients, subject, body and parent."""
    canonical = json.dumps(
        {
            "grant_id": grant_id,
            "to": [[a.email, a.name] for a in to],
            "cc": [[a.email, a.name] for a in cc],
            "subject": subject,
            "body": body,
            "reply_to_message_id": reply_to_message_id,
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
