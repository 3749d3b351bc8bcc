"""Small typed results of the gateway that are not domain-wide types."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from triage_tui.domain import InboundMessage


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class MessagePage(_Frozen):
    """One page of messages; `skipped` counts API items that had no usable id."""

    messages: list[InboundMessage]
    next_cursor: str | None = None
    skipped: int = 0


class Folder(_Frozen):
    """A mailbox folder; system folders of Agent Accounts are Inbox, Sent, Drafts, Trash, Junk, Archive."""

    id: str
    name: str = ""
    system_folder: bool = False
    attributes: list[str] = []
    total_count: int | None = None
    unread_count: int | None = None

    def is_named(self, *names: str) -> bool:
        """True when the folder's name or id matches one of `names`, case-insensitively."""
        wanted = {n.lower() for n in names}
        return self.name.lower() in wanted or self.id.lower() in wanted
