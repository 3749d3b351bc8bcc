"""Fixed data for console tests, written through the real store (store_batch), plus a fixed clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from triage_tui.config import Config, ConsoleConfig, DatabaseConfig, InboxConfig, NylasConfig
from triage_tui.domain import Address, Attachment, Header, InboundMessage, MailSignals, Suggestion
from triage_tui.store.messages import InboxScope, PreparedMessage, store_batch

FIXED_NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
GRANT = "grant-0001"
AGENT = "support@acme.test"
CATEGORIES = ["billing", "bug", "account_access", "feature_request", "spam", "other"]
URGENCIES = ["critical", "high", "normal", "low"]
SENDERS = ["ana@globex.example", "bo@initech.example", "cy@umbrella.example", "di@acme-customer.example"]
SUBJECTS = ["Invoice charged twice", "App crashes on login", "Cannot reset my password",
            "Please add dark mode", "WIN A PRIZE NOW", "Question about the contract"]


class SqliteOnly:
    """A test class base for screens and keys that do not depend on the engine: SQLite alone."""

    @pytest.fixture
    def db_url(self, tmp_path) -> str:
        """A SQLite file, whatever engines the suite runs on."""
        return f"sqlite:///{tmp_path / 'triage.db'}"


def fixed_clock() -> datetime:
    """The one moment every snapshot is taken at."""
    return FIXED_NOW


def make_config(db_url: str, **console) -> Config:
    """A test-environment config on this database with one inbox and operator alice."""
    return Config(
        tenant_id="acme",
        environment="test",
        nylas=NylasConfig(api_uri="http://127.0.0.1:9"),
        inboxes=[InboxConfig(grant_id=GRANT, email=AGENT, name="Support", workspace_id="ws-1",
                             policy_id="pol-1")],
        database=DatabaseConfig(url=db_url),
        console=ConsoleConfig(operator="alice", **console),
    )


def scope() -> InboxScope:
    """The inbox scope the test messages belong to."""
    return InboxScope(tenant_id="acme", environment="test", grant_id=GRANT, agent_account_email=AGENT)


def prepared(index: int, *, now: datetime = FIXED_NOW, thread_id: str | None = None,
             body: str | None = None, **message) -> PreparedMessage:
    """One deterministic message: category, urgency, sender and age follow from its index."""
    category = CATEGORIES[index % len(CATEGORIES)]
    urgency = URGENCIES[index % len(URGENCIES)]
    sender = SENDERS[index % len(SENDERS)]
    fields = dict(
        grant_id=GRANT,
        message_id=f"msg-{index:06d}",
        thread_id=thread_id or f"thr-{index:06d}",
        subject=f"{SUBJECTS[index % len(SUBJECTS)]} #{index}",
        sender=Address(email=sender, name=sender.split("@")[0].title()),
        to=[Address(email=AGENT)],
        received_at=now - timedelta(minutes=7 * index + 3),
        body_text=body if body is not None else f"Hello,\n\nThis is message {index} about {category}.\n",
        headers=[Header(name="Message-ID", value=f"<m{index}@example>")],
    )
    fields.update(message)
    suggestion = Suggestion(category=category, urgency=urgency, confidence=0.5 + (index % 5) / 10,
                            reasons=[f"keyword matched: {category}", f"sender history: {sender}"],
                            classification_version="rules-2026.11")
    return PreparedMessage(message=InboundMessage(**fields), signals=MailSignals(), suggestion=suggestion,
                           trigger="poll")


def rich_message(now: datetime = FIXED_NOW) -> PreparedMessage:
    """A message that trips every thread-view warning: hidden characters, Reply-To, quotes, files."""
    body = ("Hi team,\n\nPlease pay the attached invoice today.\u200b\n\n"
            "On Mon, 23 Nov 2026, Support <support@acme.test> wrote:\n> We received your message.\n"
            "> A ticket is open.\n")
    item = prepared(
        900, now=now, thread_id="thr-rich", body=body, subject="URGENT: invoice overdue",
        reply_to=[Address(email="pay@evil-payments.example")],
        attachments=[Attachment(id="a1", filename="invoice.pdf", content_type="application/pdf", size=48213)],
        headers=[Header(name="Message-ID", value="<rich@example>"), Header(name="X-Mailer", value="Mutt")],
        received_at=now - timedelta(minutes=95),
    )
    item.signals = MailSignals(hidden_characters=["U+200B ZERO WIDTH SPACE"], reply_to_differs=True,
                               reasons=["reply-to domain differs"])
    item.suggestion = Suggestion(category="billing", urgency="high", confidence=0.82,
                                 reasons=["subject says invoice", "payment words in body"],
                                 classification_version="rules-2026.11")
    return item


def seed(count: int, *, rich: bool = True, now: datetime = FIXED_NOW) -> None:
    """Store `count` deterministic messages (and the rich one) through the real ingest write path."""
    batch = [prepared(index, now=now) for index in range(count)]
    if rich:
        batch.append(rich_message(now))
    for start in range(0, len(batch), 500):
        store_batch(scope(), batch[start : start + 500], now=now.timestamp())


async def settle(pilot, rounds: int = 2) -> None:
    """Let pending workers finish and their messages land."""
    from textual.worker import WorkerCancelled

    for _ in range(rounds):
        await pilot.pause(0.01)
        for _ in range(50):  # a fast poll keeps replacing its exclusive worker: await the newest one
            try:
                await pilot.app.workers.wait_for_complete()
                break
            except WorkerCancelled:
                await pilot.pause(0.01)
    await pilot.pause(0.01)


async def wait_until(pilot, predicate, timeout: float = 15.0) -> bool:
    """Pump the app until `predicate()` holds (False after `timeout` seconds).

    The timeout is a bound for a busy machine (CI runs beside other work), not a measure: it
    returns as soon as the state is reached. Tests that assert a latency pass their own timeout.
    """
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(0.05)
    return predicate()


def screen_text(app) -> str:
    """What the terminal shows, as plain text (for asserting on a rendered screen)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)
