"""The Classifier protocol: what ingest asks, and what every implementation answers."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from triage_tui.domain import InboundMessage, Suggestion


@runtime_checkable
class Classifier(Protocol):
    """Suggests a category and urgency for one message; never acts on its content."""

    name: str

    @property
    def version(self) -> str:
        """A stable id of the model or ruleset, recorded with every suggestion."""
        ...

    def classify(self, message: InboundMessage) -> Suggestion:
        """One suggestion for one message; must not raise on hostile text."""
        ...
