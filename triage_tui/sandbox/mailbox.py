"""One grant's mail: messages, threads and folders, with precomputed JSON for fast reads."""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import uuid
from dataclasses import dataclass, field

SYSTEM_FOLDERS = [
    ("INBOX", "Inbox", "\\Inbox"),
    ("SENT", "Sent", "\\Sent"),
    ("DRAFTS", "Drafts", "\\Drafts"),
    ("TRASH", "Trash", "\\Trash"),
    ("JUNK", "Junk", "\\Junk"),
    ("ARCHIVE", "Archive", "\\Archive"),
]
BASIC_HEADERS = {"message-id", "in-reply-to", "references"}


class MailboxError(ValueError):
    """A request the mailbox refuses (bad cursor, unknown folder...)."""


@dataclass
class MailRecord:
    """What the mailbox needs to know about one mail, however it arrived."""

    subject: str = ""
    from_: list[tuple[str, str]] = field(default_factory=list)
    to: list[tuple[str, str]] = field(default_factory=list)
    cc: list[tuple[str, str]] = field(default_factory=list)
    bcc: list[tuple[str, str]] = field(default_factory=list)
    reply_to: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""
    snippet: str = ""
    attachments: list[dict] = field(default_factory=list)
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)


def record_from_parsed(parsed) -> MailRecord:
    """A MailRecord from the generator's ParsedMail (see mime.py)."""
    attachments = [
        {
            "filename": a.filename,
            "content_type": a.content_type,
            "size": a.size,
            "content_id": a.content_id,
            "is_inline": a.is_inline,
            "content_disposition": "inline" if a.is_inline else "attachment",
        }
        for a in parsed.attachments
    ]
    return MailRecord(
        subject=parsed.subject,
        from_=list(parsed.from_),
        to=list(parsed.to),
        cc=list(parsed.cc),
        bcc=list(parsed.bcc),
        reply_to=list(parsed.reply_to),
        headers=list(parsed.headers),
        body=parsed.body,
        snippet=parsed.snippet,
        attachments=attachments,
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=list(parsed.references),
    )


def _people(pairs: list[tuple[str, str]]) -> list[dict]:
    return [{"name": name, "email": email} for name, email in pairs]


def _stable_id(*parts: str) -> str:
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogatepass")).digest()
    return base64.b32encode(digest).decode("ascii").lower().rstrip("=")[:25]


def encode_cursor(key: tuple) -> str:
    """An opaque page token for a sort key."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(token: str) -> tuple:
    """The sort key inside a page token, or MailboxError."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = tuple(json.loads(raw))
        if len(key) != 2 or not all(isinstance(k, int) for k in key):
            raise ValueError(key)
        return key
    except Exception as exc:
        raise MailboxError("invalid page_token") from exc


@dataclass
class StoredMessage:
    """A message as served, plus its precomputed JSON variants."""

    grant_id: str
    id: str
    thread_id: str
    seq: int
    date: int
    record: MailRecord
    folders: list[str]
    unread: bool = True
    starred: bool = False
    metadata: dict = field(default_factory=dict)
    _json: dict = field(default_factory=dict, repr=False)
    addresses: frozenset = frozenset()

    @property
    def key(self) -> tuple[int, int]:
        """Sort key: newest first means highest key first."""
        return (self.date, self.seq)

    def to_dict(self, headers: str = "") -> dict:
        """The Nylas Message object; headers is '', 'all' or 'basic'."""
        r = self.record
        data = {
            "object": "message",
            "id": self.id,
            "grant_id": self.grant_id,
            "thread_id": self.thread_id,
            "subject": r.subject,
            "from": _people(r.from_),
            "to": _people(r.to),
            "cc": _people(r.cc),
            "bcc": _people(r.bcc),
            "reply_to": _people(r.reply_to),
            "date": self.date,
            "created_at": self.date,
            "unread": self.unread,
            "starred": self.starred,
            "snippet": r.snippet,
            "body": r.body,
            "folders": list(self.folders),
            "attachments": [
                {"id": _stable_id(self.id, str(i)), "grant_id": self.grant_id, **a}
                for i, a in enumerate(r.attachments)
            ],
            "metadata": dict(self.metadata),
        }
        if r.in_reply_to:
            data["in_reply_to"] = r.in_reply_to
        if headers == "all":
            data["headers"] = [{"name": n, "value": v} for n, v in r.headers]
        elif headers == "basic":
            data["headers"] = [
                {"name": n, "value": v} for n, v in r.headers if n.lower() in BASIC_HEADERS
            ]
        return data

    def refresh_json(self) -> None:
        """Forget the served JSON after a change; it is rebuilt on the next read."""
        self._json = {}

    def json_for(self, fields: str) -> bytes:
        """The JSON for a `fields=` value, computed once per change."""
        cached = self._json.get(fields)
        if cached is None:
            headers = {"include_headers": "all", "include_basic_headers": "basic"}.get(fields, "")
            cached = json.dumps(self.to_dict(headers), ensure_ascii=False).encode(
                "utf-8", "surrogatepass")
            self._json[fields] = cached
        return cached


@dataclass
class StoredThread:
    """A thread: its messages in arrival order."""

    id: str
    seq: int
    message_ids: list[str] = field(default_factory=list)


class Mailbox:
    """Messages, threads and folders of one grant. Not thread-safe: the caller holds the lock."""

    def __init__(self, grant_id: str, email: str, name: str = "") -> None:
        self.grant_id = grant_id
        self.email = email
        self.name = name
        self.messages: dict[str, StoredMessage] = {}
        self.order: list[tuple[int, int, str]] = []  # ascending (date, seq, id)
        self.threads: dict[str, StoredThread] = {}
        self.by_header_id: dict[str, str] = {}  # Message-ID header -> message id
        self.folders: dict[str, dict] = {
            fid: {"id": fid, "name": name, "attributes": [attr], "system_folder": True}
            for fid, name, attr in SYSTEM_FOLDERS
        }
        self._seq = 0

    def folder_id(self, name_or_id: str) -> str:
        """A folder id from its id or (case-insensitive) name, creating a custom folder if new."""
        if name_or_id in self.folders:
            return name_or_id
        for fid, folder in self.folders.items():
            if folder["name"].lower() == name_or_id.lower():
                return fid
        fid = _stable_id(self.grant_id, "folder", name_or_id)
        self.folders[fid] = {"id": fid, "name": name_or_id, "attributes": [], "system_folder": False}
        return fid

    def add(self, record: MailRecord, date: int, folders: list[str], *, unread: bool = True,
            starred: bool = False, message_id: str | None = None) -> StoredMessage:
        """Store a mail, threading it by In-Reply-To/References; returns the stored message."""
        self._seq += 1
        if not record.message_id:
            record.message_id = f"<{uuid.uuid4().hex}@sandbox.nylas.email>"
            record.headers.append(("Message-ID", record.message_id))
        mid = message_id or _stable_id(self.grant_id, record.message_id, str(self._seq))
        thread_id = self._thread_for(record)
        if thread_id is None:
            thread_id = _stable_id(self.grant_id, "thread", mid)
            self.threads[thread_id] = StoredThread(id=thread_id, seq=self._seq)
        msg = StoredMessage(
            grant_id=self.grant_id, id=mid, thread_id=thread_id, seq=self._seq, date=int(date),
            record=record, folders=list(folders), unread=unread, starred=starred,
            addresses=frozenset(
                e.lower() for _, e in record.from_ + record.to + record.cc + record.bcc
            ),
        )
        msg.refresh_json()
        self.messages[mid] = msg
        bisect.insort(self.order, (msg.date, msg.seq, mid))
        self.threads[thread_id].message_ids.append(mid)
        self.by_header_id.setdefault(record.message_id, mid)
        return msg

    def _thread_for(self, record: MailRecord) -> str | None:
        """The thread of the mail's parent, or of an earlier copy with the same Message-ID (as providers do)."""
        for ref in [record.message_id, record.in_reply_to, *reversed(record.references)]:
            parent = self.by_header_id.get(ref) if ref else None
            if parent is not None:
                return self.messages[parent].thread_id
        return None

    def update(self, message_id: str, changes: dict) -> StoredMessage:
        """Apply a PUT body (unread, starred, folders overwrite, metadata)."""
        msg = self.messages[message_id]
        if "folders" in changes:
            folders = changes["folders"]
            if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
                raise MailboxError("folders must be a list of folder ids")
            unknown = [f for f in folders if f not in self.folders]
            if unknown:
                raise MailboxError(f"unknown folder id: {unknown[0]}")
            msg.folders = list(folders)
        for flag in ("unread", "starred"):
            if flag in changes:
                if not isinstance(changes[flag], bool):
                    raise MailboxError(f"{flag} must be a boolean")
                setattr(msg, flag, changes[flag])
        if "metadata" in changes:
            if not isinstance(changes["metadata"], dict):
                raise MailboxError("metadata must be an object")
            msg.metadata = {str(k): str(v) for k, v in changes["metadata"].items()}
        msg.refresh_json()
        return msg

    def page(self, match, limit: int, page_token: str | None) -> tuple[list[StoredMessage], str | None]:
        """Newest-first messages passing `match`, after the cursor; returns (page, next cursor)."""
        end = len(self.order)
        if page_token:
            date, seq = decode_cursor(page_token)
            end = bisect.bisect_left(self.order, (date, seq, ""))
        out: list[StoredMessage] = []
        i = end - 1
        while i >= 0 and len(out) < limit:
            msg = self.messages[self.order[i][2]]
            if match(msg):
                out.append(msg)
            i -= 1
        more = len(out) == limit and any(
            match(self.messages[self.order[j][2]]) for j in range(i, -1, -1)
        )
        return out, encode_cursor(out[-1].key) if more else None

    def thread_dict(self, thread: StoredThread) -> dict:
        """The Nylas Thread object."""
        msgs = [self.messages[m] for m in thread.message_ids]
        latest = max(msgs, key=lambda m: m.key)
        received = [m.date for m in msgs if "SENT" not in m.folders]
        sent = [m.date for m in msgs if "SENT" in m.folders]
        participants: dict[str, dict] = {}
        for m in msgs:
            r = m.record
            for name, email in r.from_ + r.to + r.cc:
                participants.setdefault(email.lower(), {"name": name, "email": email})
        folders: list[str] = []
        for m in msgs:
            folders.extend(f for f in m.folders if f not in folders)
        first = min(msgs, key=lambda m: m.key)
        return {
            "object": "thread",
            "id": thread.id,
            "grant_id": self.grant_id,
            "subject": first.record.subject,
            "snippet": latest.record.snippet,
            "unread": any(m.unread for m in msgs),
            "starred": any(m.starred for m in msgs),
            "has_attachments": any(m.record.attachments for m in msgs),
            "has_drafts": False,
            "earliest_message_date": first.date,
            "latest_message_received_date": max(received) if received else None,
            "latest_message_sent_date": max(sent) if sent else None,
            "participants": list(participants.values()),
            "message_ids": [m.id for m in sorted(msgs, key=lambda m: m.key)],
            "draft_ids": [],
            "folders": folders,
            "latest_draft_or_message": latest.to_dict(),
        }

    def thread_key(self, thread: StoredThread) -> tuple[int, int]:
        """Sort key of a thread: its latest message."""
        return max(self.messages[m].key for m in thread.message_ids)

    def folder_dicts(self) -> list[dict]:
        """The Nylas Folder objects with counts."""
        totals = {fid: 0 for fid in self.folders}
        unread = {fid: 0 for fid in self.folders}
        for msg in self.messages.values():
            for fid in msg.folders:
                totals[fid] = totals.get(fid, 0) + 1
                unread[fid] = unread.get(fid, 0) + int(msg.unread)
        return [
            {"object": "folder", "grant_id": self.grant_id, "parent_id": None,
             "child_count": 0, "total_count": totals.get(fid, 0),
             "unread_count": unread.get(fid, 0), **folder}
            for fid, folder in self.folders.items()
        ]
