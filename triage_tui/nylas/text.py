"""Text hygiene for untrusted mail: NUL, lone surrogates, hidden characters, HTML to plain text."""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

_SURROGATE = re.compile("[\ud800-\udfff]")
_HIDDEN = re.compile(
    "[\u200b-\u200f\u2060\ufeff\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f]"
)
_HTML_HINT = re.compile(
    r"<\s*(?:!doctype|html|head|body|div|p|br|table|tr|td|span|a\s|b>|i>|ul|ol|li|"
    r"blockquote|font|img|h[1-6]|strong|em|style|script|meta|center|pre)\b",
    re.IGNORECASE,
)
_MAX_HIDDEN_NAMES = 32
TAG_CHARACTER = "TAG CHARACTER"


def clean_text(value: object) -> str:
    """Any value as a str: None -> '', NUL removed, lone surrogates replaced by U+FFFD."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
    elif isinstance(value, str):
        text = value
    else:
        text = str(value)
    if "\x00" in text:
        text = text.replace("\x00", "")
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text


def one_line(value: object) -> str:
    """Clean text with CR/LF and other line breaks turned into spaces (subjects, names)."""
    text = clean_text(value)
    return " ".join(text.splitlines()).strip() if text else ""


def hidden_character_names(*texts: str) -> list[str]:
    """Distinct names of zero-width, bidi-control and tag characters found, in order seen.

    Printable tag characters are one entry, TAG CHARACTER; `tag_payload` reads what they spell.
    """
    names: list[str] = []
    for text in texts:
        if not text:
            continue
        for match in _HIDDEN.finditer(text):
            name = _char_name(match.group())
            if name not in names:
                names.append(name)
                if len(names) >= _MAX_HIDDEN_NAMES:
                    return names
    return names


def visible_text(text: str) -> str:
    """The text without zero-width, bidi-control and tag characters (for display/classification)."""
    return _HIDDEN.sub("", text) if text else ""


def looks_like_html(body: str) -> bool:
    """True when a body is HTML rather than plain text."""
    return bool(_HTML_HINT.search(body[:20_000]))


def html_to_text(html: str) -> str:
    """Readable plain text from HTML: no script/style content, blocks as lines, quotes as '> '."""
    if not html:
        return ""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
        return parser.text()
    except Exception:  # noqa: BLE001 - a hostile page must still give some text
        return _collapse(re.sub(r"<[^>]*>", " ", html))


def tag_payload(text: str) -> str:
    """The ASCII text smuggled in Unicode tag characters (U+E0020-U+E007E), '' when none."""
    if not text:
        return ""
    return "".join(chr(ord(c) - 0xE0000) for c in text if 0xE0020 <= ord(c) <= 0xE007E)


def _char_name(char: str) -> str:
    if 0xE0020 <= ord(char) <= 0xE007E:
        return TAG_CHARACTER
    return unicodedata.name(char, f"U+{ord(char):04X}")


def _collapse(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    joined = "\n".join(lines).strip()
    return re.sub(r"\n{3,}", "\n\n", joined)


_SKIP = {"script", "style", "head", "title", "noscript", "template", "svg", "object", "iframe"}
_BLOCK = {
    "p", "div", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "section", "article", "header", "footer", "pre", "form", "dl", "dt", "dd", "address",
    "center", "main", "nav", "aside", "figure", "caption", "tbody", "thead",
}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[str] = []
        self._current: list[str] = []
        self._skipping: list[str] = []
        self._quote_depth = 0
        self._pre_depth = 0
        self._line_depth = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP:
            self._skipping.append(tag)
            return
        if tag == "body":
            # An unclosed <head> must not hide the whole body.
            self._skipping = [t for t in self._skipping if t not in ("head", "title")]
        if tag == "br":
            self._newline(force=True)
        elif tag == "li":
            self._newline()
            self._current.append("- ")
        elif tag == "blockquote":
            self._newline()
            self._quote_depth += 1
            self._line_depth = self._quote_depth
        elif tag in _BLOCK:
            self._newline()
            if tag == "pre":
                self._pre_depth += 1
        elif tag in ("td", "th"):
            self._current.append(" ")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag == "br":
            self._newline(force=True)
        elif tag in _BLOCK:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            if tag in self._skipping:
                index = len(self._skipping) - 1 - self._skipping[::-1].index(tag)
                del self._skipping[index:]
            return
        if tag == "blockquote":
            self._newline()
            self._quote_depth = max(0, self._quote_depth - 1)
            self._line_depth = self._quote_depth
        elif tag in _BLOCK or tag == "li":
            self._newline()
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._pre_depth:
            parts = data.split("\n")
            for index, part in enumerate(parts):
                if index:
                    self._newline(force=True)
                self._current.append(part)
            return
        if not self._current:
            self._line_depth = self._quote_depth
        self._current.append(data)

    def _newline(self, *, force: bool = False) -> None:
        line = " ".join("".join(self._current).split()) if not self._pre_depth else "".join(self._current)
        if line or force:
            prefix = "> " * self._line_depth
            self._lines.append(prefix + line if line else prefix.rstrip())
        self._current = []
        self._line_depth = self._quote_depth

    def text(self) -> str:
        self._newline()
        joined = "\n".join(line.rstrip() for line in self._lines).strip("\n")
        return re.sub(r"\n{3,}", "\n\n", joined).strip()
