"""A small, fast MIME writer for generated mail (the stdlib generator is too slow for 100k)."""

from __future__ import annotations

import base64
import binascii
from email.utils import formataddr
from functools import lru_cache

CRLF = "\r\n"
Part = tuple[list[tuple[str, str]], bytes]
_Q_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!*+-/")
_B_CHUNK = 42  # bytes per B word: 56 base64 characters plus the charset wrapper stays under 76
_Q_CHUNK = 18  # a Q word may triple its bytes


@lru_cache(maxsize=65536)
def address(name: str, email: str) -> str:
    """One address for a header, RFC 2047-encoding a non-ASCII display name."""
    return formataddr((name, email), charset="utf-8")


def addresses(people: list[tuple[str, str]]) -> str:
    """A comma-separated address list."""
    return ", ".join(address(name, email) for name, email in people)


def _q_word(chunk: bytes) -> str:
    return "".join(chr(b) if b in _Q_SAFE else "_" if b == 32 else f"={b:02X}" for b in chunk)


def encoded_words(text: str, charset: str = "utf-8") -> str:
    """RFC 2047 encoded words, folded (ASCII text is returned unchanged).

    UTF-8 uses the B encoding, single-byte charsets the Q encoding; words never split a character.
    """
    if text.isascii():
        return text
    q = charset.lower() != "utf-8"
    words, chunk = [], b""
    for char in text:
        data = char.encode(charset, errors="replace")
        if len(chunk) + len(data) > (_Q_CHUNK if q else _B_CHUNK):
            words.append(chunk)
            chunk = b""
        chunk += data
    words.append(chunk)
    if q:
        encoded = [f"=?{charset}?q?{_q_word(word)}?=" for word in words]
    else:
        encoded = [f"=?{charset}?b?{base64.b64encode(word).decode()}?=" for word in words]
    return (CRLF + " ").join(encoded)


def fold_ids(ids: list[str]) -> str:
    """Message-IDs for References, folded one per line."""
    return (CRLF + " ").join(ids)


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def text_part(subtype: str, text: str, charset: str = "utf-8", cte: str = "8bit") -> Part:
    """A text/plain or text/html part in the given charset and transfer encoding."""
    data = text.encode(charset, errors="replace")
    if cte == "quoted-printable":
        body = _crlf(binascii.b2a_qp(data))
    elif cte == "base64":
        body = _crlf(base64.encodebytes(data))
    else:
        cte = "8bit" if not data.isascii() else "7bit"
        body = _crlf(data)
    headers = [("Content-Type", f'text/{subtype}; charset="{charset}"'), ("Content-Transfer-Encoding", cte)]
    return headers, body


def binary_part(content_type: str, filename: str, data: bytes, content_id: str = "") -> Part:
    """A base64 attachment, or an inline part when it has a Content-ID."""
    disposition = "inline" if content_id else "attachment"
    headers = [
        ("Content-Type", f'{content_type}; name="{filename}"'),
        ("Content-Disposition", f'{disposition}; filename="{filename}"'),
        ("Content-Transfer-Encoding", "base64"),
    ]
    if content_id:
        headers.append(("Content-ID", content_id))
    return headers, _crlf(base64.encodebytes(data))


def raw_part(content_type: str, body: str) -> Part:
    """A part whose body is already 7-bit text (delivery-status, rfc822-headers)."""
    return [("Content-Type", content_type)], _crlf(body.encode("ascii", errors="replace"))


def multipart(subtype: str, parts: list[Part], boundary: str, params: str = "") -> Part:
    """A multipart container around parts."""
    chunks: list[bytes] = []
    for headers, body in parts:
        head = "".join(f"{name}: {value}{CRLF}" for name, value in headers)
        chunks.append(f"--{boundary}{CRLF}{head}{CRLF}".encode("ascii") + body)
        if not body.endswith(b"\r\n"):
            chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--{CRLF}".encode("ascii"))
    extra = f"; {params}" if params else ""
    content_type = f'multipart/{subtype}; boundary="{boundary}"{extra}'
    return [("Content-Type", content_type)], b"".join(chunks)


def render(headers: list[tuple[str, str]], part: Part) -> bytes:
    """A complete message: top-level headers, MIME-Version, the part's headers and body."""
    lines = [f"{name}: {value if value.isascii() else encoded_words(value)}" for name, value in headers]
    lines.append("MIME-Version: 1.0")
    lines.extend(f"{name}: {value}" for name, value in part[0])
    return (CRLF.join(lines) + CRLF + CRLF).encode("ascii") + part[1]
