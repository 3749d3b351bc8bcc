"""The thread as readable text: warnings first, headers on a toggle, quoted text folded."""

from __future__ import annotations

from datetime import datetime

from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from triage_tui.console.format import message_warnings, reveal_hidden, size_text, split_quotes
from triage_tui.domain import InboundMessage, MailSignals, MessageDetail, Suggestion


def _addresses(addresses) -> str:
    return ", ".join(f"{a.name} <{a.email}>" if a.name else a.email for a in addresses)


def readable_body(message: InboundMessage) -> str:
    """The plain text of a message; HTML converted when there is no text part."""
    if message.body_text.strip():
        return message.body_text
    if message.body_html.strip():
        import html2text

        converter = html2text.HTML2Text()
        converter.body_width = 0
        converter.ignore_images = True
        return converter.handle(message.body_html)
    return message.snippet


class MessageCard(Vertical):
    """One message of the thread."""

    def __init__(self, message: InboundMessage, signals: MailSignals | None, *, selected: bool,
                 show_headers: bool, unfold_quotes: bool, note: str = "") -> None:
        classes = "message-card" + (" -selected" if selected else "") + (" -attached" if note.startswith("↳") else "")
        super().__init__(classes=classes)
        self.message = message
        self.note = note
        self.signals = signals or MailSignals()
        self.show_headers = show_headers
        self.unfold_quotes = unfold_quotes

    def compose(self):
        """Envelope, warnings, headers, body blocks, attachments."""
        m = self.message
        when = m.received_at.strftime("%Y-%m-%d %H:%M UTC")
        envelope = [f"From: {_addresses([m.sender])}", f"To: {_addresses(m.to)}"]
        if m.cc:
            envelope.append(f"Cc: {_addresses(m.cc)}")
        if m.reply_to:
            envelope.append(f"Reply-To: {_addresses(m.reply_to)}")
        envelope += [f"Date: {when}", f"Subject: {reveal_hidden(m.subject) or '(no subject)'}"]
        if self.note:
            yield Static(self.note, classes="mail-note", markup=False)
        yield Static("\n".join(envelope), classes="envelope", markup=False)
        for warning in message_warnings(m, self.signals):
            yield Static(f"⚠ {warning}", classes="mail-warning", markup=False)
        if self.show_headers and m.headers:
            raw = "\n".join(f"{h.name}: {h.value}" for h in m.headers)
            yield Static(raw, classes="raw-headers", markup=False)
        for block in split_quotes(readable_body(m)):
            if block.quoted and not self.unfold_quotes:
                yield Static(f"▸ {len(block.lines)} quoted lines folded (z to unfold)", classes="quote-fold",
                             markup=False)
            else:
                yield Static(reveal_hidden("\n".join(block.lines)), classes="quoted" if block.quoted else "body",
                             markup=False)
        if m.attachments:
            lines = [f"📎 {a.filename or '(unnamed)'}  {a.content_type}  {size_text(a.size)}"
                     + ("  inline" if a.is_inline else "") for a in m.attachments]
            yield Static("\n".join(lines), classes="attachments", markup=False)


class ThreadView(VerticalScroll):
    """Every message of a thread, oldest first, the selected one marked."""

    async def show(self, detail: MessageDetail, *, show_headers: bool, unfold_quotes: bool) -> None:
        """Replace the content with this thread, scrolled to the message the decisions are about."""
        await self.remove_children()
        thread = detail.thread or [detail.message]
        cards: list[MessageCard] = []
        for message in thread:
            selected = message.message_id == detail.message.message_id
            cards.append(MessageCard(message, detail.signals if selected else None, selected=selected,
                                     show_headers=show_headers, unfold_quotes=unfold_quotes,
                                     note=detail.notes.get(message.message_id, "")))
        await self.mount_all(cards)
        selected = next((card for card in cards if card.has_class("-selected")), None)
        if selected is not None and selected is not cards[0]:
            self.call_after_refresh(self.scroll_to_widget, selected, animate=False, top=True)


def suggestion_text(detail: MessageDetail, now: datetime) -> str:
    """The suggestion panel's text: category, urgency, confidence, reasons, version."""
    item = detail.item
    conversation = detail.conversation
    lines = []
    if conversation is not None:
        lines.append(f"Conversation: {conversation.state}, {conversation.message_count} messages")
        if conversation.ticket_id:
            lines.append(f"Ticket: {conversation.ticket_id} ({conversation.ticket_status})")
        waiting = conversation.sla_started_at
        lines.append(f"Waiting on us since {waiting:%Y-%m-%d %H:%M} UTC" if waiting else "Nothing waits on us")
    lines.append(f"This message: {item.state}")
    if item.ticket_id and conversation is None:
        lines.append(f"Ticket: {item.ticket_id}")
    if item.lease_holder:
        lines.append(f"Reviewing: {item.lease_holder}")
    s: Suggestion | None = detail.suggestion
    if s is None:
        lines += ["", "No suggestion", "(automated mail or not yet classified)"]
    else:
        lines += ["", "Suggestion", f"  category   {s.category}", f"  urgency    {s.urgency}",
                  f"  confidence {s.confidence:.0%}" + ("  needs a human" if s.needs_human else ""),
                  f"  version    {s.classification_version}", "", "Reasons"]
        lines += [f"  • {reason}" for reason in s.reasons] or ["  (none given)"]
    if detail.last_error:
        lines += ["", f"Last error: {detail.last_error}"]
    return "\n".join(lines)
