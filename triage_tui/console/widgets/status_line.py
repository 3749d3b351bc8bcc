"""A one-line status that repaints without asking for a new layout (it changes on every key)."""

from __future__ import annotations

from textual.widget import Widget


class StatusLine(Widget):
    """Plain text on one line; `set_text` only repaints this line."""

    DEFAULT_CSS = "StatusLine { height: 1; }"

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self._text = text

    @property
    def text(self) -> str:
        """What the line says."""
        return self._text

    def set_text(self, text: str) -> None:
        """Change the text and repaint."""
        if text != self._text:
            self._text = text
            self.refresh()

    def render(self) -> str:
        """The text as it is, never parsed as markup."""
        from textual.content import Content

        return Content(self._text)
