"""Write what init set up into the config file with tomlkit: ids only (never a key), comments kept."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import tomlkit
from tomlkit.items import AoT, Table

from triage_tui.config import ConfigError, parse_config

HEADER = """triage-tui config, written by `triage-tui init` (run it again to update the ids).
Every key is documented in config.example.toml. Secrets never live here: the Nylas API key
comes from NYLAS_API_KEY, the webhook secret from NYLAS_WEBHOOK_SECRET."""


@dataclass(frozen=True)
class Setup:
    """What init decided, to be recorded in the config."""

    api_uri: str
    environment: str
    tenant_id: str
    grant_id: str
    email: str
    workspace_id: str
    policy_id: str
    name: str
    webhook_url: str
    webhook_id: str


def _document(path: Path) -> tomlkit.TOMLDocument:
    if not path.exists():
        doc = tomlkit.document()
        for line in HEADER.splitlines():
            doc.add(tomlkit.comment(line))
        doc.add(tomlkit.nl())
        return doc
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        raise ConfigError(f"{path}: cannot update the config: {exc}") from None


def _table(doc, key: str, fresh: list) -> Table:
    if key not in doc:
        doc[key] = tomlkit.table()
        fresh.append(doc[key])
    return doc[key]


def _set(table, key: str, value) -> None:
    if table.get(key) != value:
        table[key] = value


def render(path: Path, setup: Setup) -> str:
    """The config text with this setup applied (the file is not touched)."""
    doc = _document(path)
    fresh: list[Table] = []
    if "tenant_id" not in doc or setup.tenant_id:
        _set(doc, "tenant_id", setup.tenant_id or "default")
    _set(doc, "environment", setup.environment)
    _set(_table(doc, "nylas", fresh), "api_uri", setup.api_uri)
    inboxes = doc.get("inboxes")
    if not isinstance(inboxes, AoT):
        inboxes = tomlkit.aot()
        doc["inboxes"] = inboxes
    mine = next((t for t in inboxes if t.get("grant_id") == setup.grant_id
                 or str(t.get("email", "")).lower() == setup.email.lower()), None)
    if mine is None:
        if len(inboxes) and not tomlkit.dumps(doc).endswith("\n\n"):
            inboxes[-1].add(tomlkit.nl())
        mine = tomlkit.table()
        inboxes.append(mine)
        fresh.append(mine)
    for key in ("grant_id", "email", "workspace_id", "policy_id"):
        _set(mine, key, getattr(setup, key))
    if not mine.get("name"):
        _set(mine, "name", setup.name or "Support")
    _set(mine, "production", setup.environment == "production")
    webhook = _table(doc, "webhook", fresh)
    _set(webhook, "public_url", setup.webhook_url)
    _set(webhook, "webhook_id", setup.webhook_id)
    for table in fresh[:-1]:
        table.add(tomlkit.nl())
    return re.sub(r"\n{3,}", "\n\n", tomlkit.dumps(doc))


def remove_inbox(path: Path, grant_id: str) -> bool:
    """Drop the [[inboxes]] entry of a grant from the config file; True when there was one."""
    if not path.exists():
        return False
    doc = _document(path)
    inboxes = doc.get("inboxes")
    if not isinstance(inboxes, AoT):
        return False
    kept = [t for t in inboxes if t.get("grant_id") != grant_id]
    if len(kept) == len(inboxes):
        return False
    while len(inboxes):
        inboxes.pop(0)  # tomlkit's AoT has no clear(); popping keeps the array's place in the file
    for table in kept:
        inboxes.append(table)
    save(path, tomlkit.dumps(doc))
    return True


def save(path: Path, text: str) -> None:
    """Validate, then replace the file atomically."""
    parse_config(text, source=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".toml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def change(path: Path, setup: Setup) -> tuple[str, str]:
    """("created" | "updated" | "unchanged", the new text), judged on the data, not the layout."""
    before = path.read_text(encoding="utf-8") if path.exists() else None
    text = render(path, setup)
    if before is None:
        return "created", text
    same = tomlkit.parse(before).unwrap() == tomlkit.parse(text).unwrap()
    return ("unchanged" if same else "updated"), text


def write(path: Path, setup: Setup) -> str:
    """Apply the setup to the file: "created", "updated" or "unchanged"."""
    action, text = change(path, setup)
    if action != "unchanged":
        save(path, text)
    return action
