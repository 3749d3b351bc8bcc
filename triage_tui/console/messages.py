"""Messages that thread workers post back to the UI (data only, never widgets)."""

from __future__ import annotations

from textual.message import Message

from triage_tui.domain import HeaderStats, QueueItem, StopSwitch


class Polled(Message):
    """The cheap periodic read: queue version, stop switch, header figures, sync progress."""

    def __init__(self, version: object, stop: StopSwitch, stats: HeaderStats | None,
                 progress: object | None = None) -> None:
        super().__init__()
        self.version, self.stop, self.stats, self.progress = version, stop, stats, progress


class QueueLoaded(Message):
    """A window of queue rows read around an anchor."""

    def __init__(self, items: list[QueueItem], selected: int, top: int, at_start: bool, at_end: bool,
                 count: int, generation: int) -> None:
        super().__init__()
        self.items, self.selected, self.top = items, selected, top
        self.at_start, self.at_end, self.count, self.generation = at_start, at_end, count, generation


class QueueCounted(Message):
    """How many rows the current filter matches (capped)."""

    def __init__(self, count: int, generation: int) -> None:
        super().__init__()
        self.count, self.generation = count, generation


class QueueExtended(Message):
    """More rows read past one edge of the loaded window."""

    def __init__(self, items: list[QueueItem], forward: bool, exhausted: bool, generation: int) -> None:
        super().__init__()
        self.items, self.forward, self.exhausted, self.generation = items, forward, exhausted, generation


class ActionDone(Message):
    """A decision, reply approval or switch flip finished; `error` says why not when it failed."""

    def __init__(self, text: str, *, error: str = "", keys: list[int] | None = None,
                 what: str = "decision", ref: str = "") -> None:
        super().__init__()
        self.text, self.error, self.keys, self.what, self.ref = text, error, keys or [], what, ref


class StopQuestion(Message):
    """The stop switch as it stands right now and the sends that wait on it."""

    def __init__(self, stop: StopSwitch, waiting: int) -> None:
        super().__init__()
        self.stop, self.waiting = stop, waiting


class ReplyDrafted(Message):
    """A draft reply and the recipients the application computed for it."""

    def __init__(self, item: QueueItem, reply, choice) -> None:
        super().__init__()
        self.item, self.reply, self.choice = item, reply, choice
