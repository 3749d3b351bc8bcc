"""Tolerant RFC 5322 / MIME parsing into the fields the sandbox serves."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timezone
from email import message_from_bytes
from email.header import decode_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

SNIPPET_CHARS = 100
_SNIPPET_SOURCE_CHARS = 20_000
_MAIL_HEADERS = frozenset(
    {"from", "sender", "to", "cc", "subject", "date", "message-id", "received", "return-path"}
)
_FOLD = re.compile(r"\r?\n[ \t]")
_MSGID = re.compile(r"<[^<>\s]+>")
_SPACE = re.compile(r"\s+")


class MimeError(ValueError):
    """The bytes are not an e-mail message at all."""


@dataclass
class ParsedAttachment:
    """One attachment or inline part of a message."""

    filename: str
    content_type: str
    size: int
    content_id: str
    is_inline: bool


@dataclass
class ParsedMail:
    """The decoded fields of one message."""

    subject: str
    from_: list[tuple[str, str]]
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    bcc: list[tuple[str, str]]
    reply_to: list[tuple[str, str]]
    date: int | None
    headers: list[tuple[str, str]]
    body: str
    is_html: bool
    snippet: str
    attachments: list[ParsedAttachment] = field(default_factory=list)
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, falling back to UTF-8 then windows-1252."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return data.decode("windows-1252", errors="replace")


def _raw_header_text(value: object) -> str:
    """Unfold a raw header and turn 8-bit bytes (surrogate-escaped) into text."""
    text = value if isinstance(value, str) else str(value)
    text = _FOLD.sub(" ", text).strip("\r\n")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), None)
    return text.strip()


def _decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words; text without them is returned as is."""
    if "=?" not in text:
        return text
    try:
        chunks = decode_header(text)
    except Exception:  # malformed encoded words stay readable as raw text
        return text
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
        elif charset is None:
            out.append(chunk.decode("raw-unicode-escape", errors="replace"))
        else:
            out.append(decode_bytes(chunk, charset))
    return "".join(out)


def header_text(value: object) -> str:
    """A header value as readable text, whatever its encoding."""
    return _decode_words(_raw_header_text(value))


def _raw_all(msg: Message, name: str) -> list[str]:
    """Every raw value of a header, without compat32 turning 8-bit text into Header objects."""
    wanted = name.lower()
    return [value for key, value in msg.raw_items() if str(key).lower() == wanted]


def _raw_first(msg: Message, name: str) -> str:
    values = _raw_all(msg, name)
    return _raw_header_text(values[0]) if values else ""


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    values = [_raw_header_text(v) for v in _raw_all(msg, name)]
    if not values:
        return []
    try:
        pairs = getaddresses(values)
    except Exception:  # a broken list still yields whatever tokens look like addresses
        pairs = [("", token) for token in re.findall(r"[^\s<>,;\"]+@[^\s<>,;\"]+", " ".join(values))]
    return [(_decode_words(n).strip(), a.strip()) for n, a in pairs if a and "@" in a]


def _date(msg: Message) -> int | None:
    raw = _raw_first(msg, "Date")
    if not raw:
        return None
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return int(parsed.timestamp())
    except (OverflowError, OSError, ValueError):
        return None


class _TextExtractor(HTMLParser):
    """Collects visible text of an HTML document, skipping script and style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr", "blockquote"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment; never raises."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:  # HTMLParser is lenient; this guards odd edge cases only
        return re.sub(r"<[^>]*>", " ", html)
    return "".join(extractor.parts)


def make_snippet(body: str, is_html: bool) -> str:
    """First 100 characters of the visible text, whitespace collapsed."""
    for limit in (_SNIPPET_SOURCE_CHARS // 5, _SNIPPET_SOURCE_CHARS):
        source = body[:limit]
        text = _SPACE.sub(" ", html_to_text(source) if is_html else source).strip()
        if len(text) > SNIPPET_CHARS or len(body) <= limit:
            break
    return text[:SNIPPET_CHARS].rstrip()


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: fall back to the raw payload
        payload = None
    if payload is None:
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    try:
        charset = part.get_content_charset()
    except Exception:  # an undecodable charset parameter
        charset = None
    return decode_bytes(payload, charset)


def _disposition(part: Message) -> str:
    return _raw_first(part, "Content-Disposition").split(";", 1)[0].strip().lower()


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except Exception:  # broken RFC 2231 parameters
        return ""
    if isinstance(name, tuple):  # undecoded RFC 2231 triple
        name = name[2]
    return _decode_words(_raw_header_text(name))


def _attachment(part: Message, ctype: str, disposition: str) -> ParsedAttachment:
    try:
        payload = part.get_payload(decode=True) or b""
    except Exception:  # broken base64 still counts as an attachment
        payload = b""
    content_id = _raw_first(part, "Content-ID")
    inline = disposition == "inline" or (not disposition and bool(content_id))
    return ParsedAttachment(_filename(part), ctype, len(payload), content_id, inline)


def _leaves(msg: Message) -> list[Message]:
    """Non-multipart parts in order; an attached message/* is one leaf, not opened."""
    leaves: list[Message] = []
    stack = [msg]
    while stack:
        part = stack.pop()
        payload = part.get_payload()
        if part.get_content_maintype() != "message" and part.is_multipart() and isinstance(payload, list):
            stack.extend(reversed(payload))
        else:
            leaves.append(part)
    return leaves


def _attached_message(part: Message) -> ParsedAttachment:
    payload = part.get_payload()
    try:
        size = len(payload[0].as_bytes()) if isinstance(payload, list) and payload else 0
    except Exception:  # an unserialisable attached message still counts as an attachment
        size = 0
    return ParsedAttachment(_filename(part) or "forwarded.eml", "message/rfc822", size,
                            _raw_first(part, "Content-ID"), False)


def _walk_body(msg: Message) -> tuple[str, str, list[ParsedAttachment]]:
    html, plain = "", ""
    found_html = found_plain = False
    attachments: list[ParsedAttachment] = []
    for part in _leaves(msg):
        ctype = part.get_content_type()
        disposition = _disposition(part)
        if ctype == "message/rfc822":
            attachments.append(_attached_message(part))
            continue
        is_text = ctype in ("text/plain", "text/html")
        named = bool(disposition or _filename(part) or _raw_all(part, "Content-ID"))
        if disposition == "attachment" or (not is_text and named):
            attachments.append(_attachment(part, ctype, disposition))
        elif ctype == "text/html" and not found_html:
            html, found_html = _part_text(part), True
        elif ctype == "text/plain" and not found_plain:
            plain, found_plain = _part_text(part), True
    if found_html:
        return html, "html", attachments
    return plain, "plain", attachments


def _looks_like_mail(msg: Message) -> bool:
    names = {str(name).lower() for name in msg.keys()}
    return bool(names & _MAIL_HEADERS)


def parse_mime(raw: bytes) -> ParsedMail:
    """Parse one message; odd encodings degrade, only non-mail raises MimeError."""
    if not isinstance(raw, (bytes, bytearray)):
        raise MimeError("mail must be bytes")
    if not raw.strip():
        raise MimeError("empty file")
    try:
        msg = message_from_bytes(bytes(raw), policy=compat32)
    except Exception as exc:  # the stdlib parser is lenient; anything here is not mail
        raise MimeError(f"unparseable: {exc}") from exc
    if not _looks_like_mail(msg):
        raise MimeError("no mail headers (From, To, Subject, Date, Message-ID...)")
    headers = [(str(name), header_text(value)) for name, value in msg.raw_items()]
    body, kind, attachments = _walk_body(msg)
    is_html = kind == "html"
    message_id_match = _MSGID.search(_raw_first(msg, "Message-ID"))
    in_reply_to = _MSGID.search(_raw_first(msg, "In-Reply-To"))
    return ParsedMail(
        subject=_decode_words(_raw_first(msg, "Subject")),
        from_=_addresses(msg, "From"),
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        bcc=_addresses(msg, "Bcc"),
        reply_to=_addresses(msg, "Reply-To"),
        date=_date(msg),
        headers=headers,
        body=body,
        is_html=is_html,
        snippet=make_snippet(body, is_html),
        attachments=attachments,
        message_id=message_id_match.group(0) if message_id_match else "",
        in_reply_to=in_reply_to.group(0) if in_reply_to else "",
        references=_MSGID.findall(" ".join(_raw_header_text(v) for v in _raw_all(msg, "References"))),
    )
