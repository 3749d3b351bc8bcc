"""Loads real mail for the sandbox from a directory of .eml files, a maildir or an mbox file."""

from __future__ import annotations

import mailbox
from dataclasses import dataclass, field
from pathlib import Path

from triage_tui.sandbox.mime import MimeError, parse_mime

MAX_MAIL_BYTES = 50 * 1024 * 1024
_MBOX_SNIFF_BYTES = 5


@dataclass
class ImportResult:
    """Raw mails that parse, and (name, reason) for each one skipped."""

    mails: list[bytes] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


class ImportPathError(ValueError):
    """The import path does not exist or is not a mail source."""


def _accept(result: ImportResult, name: str, raw: bytes) -> None:
    if len(raw) > MAX_MAIL_BYTES:
        result.skipped.append((name, f"larger than {MAX_MAIL_BYTES // (1024 * 1024)} MB"))
        return
    try:
        parse_mime(raw)
    except MimeError as exc:
        result.skipped.append((name, str(exc)))
        return
    except Exception as exc:  # a parser bug must skip one mail, not abort the import
        result.skipped.append((name, f"parse failed: {type(exc).__name__}: {exc}"))
        return
    result.mails.append(raw)


def _read(result: ImportResult, path: Path, name: str) -> None:
    try:
        if path.stat().st_size > MAX_MAIL_BYTES:
            result.skipped.append((name, f"larger than {MAX_MAIL_BYTES // (1024 * 1024)} MB"))
            return
        raw = path.read_bytes()
    except OSError as exc:
        result.skipped.append((name, f"unreadable: {exc.strerror or exc}"))
        return
    _accept(result, name, raw)


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() or (path / "new").is_dir()


def _load_maildir(path: Path, result: ImportResult) -> None:
    for sub in ("new", "cur"):
        folder = path / sub
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            if entry.is_file() and not entry.name.startswith("."):
                _read(result, entry, f"{sub}/{entry.name}")


def _load_eml_dir(path: Path, result: ImportResult) -> None:
    for entry in sorted(path.rglob("*")):
        if not entry.is_file() or entry.name.startswith("."):
            continue
        name = str(entry.relative_to(path))
        if entry.suffix.lower() == ".eml":
            _read(result, entry, name)
        else:
            result.skipped.append((name, "not an .eml file"))


def _load_mbox(path: Path, result: ImportResult) -> None:
    try:
        box = mailbox.mbox(str(path), create=False)
        keys = box.keys()
    except (OSError, mailbox.Error) as exc:
        raise ImportPathError(f"{path}: cannot read mbox: {exc}") from exc
    try:
        for index, key in enumerate(keys, start=1):
            name = f"{path.name}#{index}"
            try:
                raw = box.get_bytes(key)
            except Exception as exc:  # one broken entry must not end the import
                result.skipped.append((name, f"unreadable entry: {exc}"))
                continue
            _accept(result, name, raw)
    finally:
        box.close()


def load_mail(path: str | Path) -> ImportResult:
    """Every parseable mail under path; a bad one is skipped with its name and reason."""
    source = Path(path).expanduser()
    result = ImportResult()
    if source.is_dir():
        if _is_maildir(source):
            _load_maildir(source, result)
        else:
            _load_eml_dir(source, result)
    elif source.is_file():
        try:
            with source.open("rb") as handle:
                head = handle.read(_MBOX_SNIFF_BYTES)
        except OSError as exc:
            raise ImportPathError(f"{source}: unreadable: {exc.strerror or exc}") from exc
        if head.startswith(b"From "):
            _load_mbox(source, result)
        else:
            _read(result, source, source.name)
    else:
        raise ImportPathError(f"{source}: no such file or directory")
    return result
