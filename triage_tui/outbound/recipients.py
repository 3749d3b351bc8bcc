"""Recipients chosen by code from the original message's headers; never from the body or a model."""

from __future__ import annotations

from functools import lru_cache

import tldextract
from pydantic import BaseModel

from triage_tui.config import OutboundConfig
from triage_tui.domain import Address, InboundMessage
from triage_tui.outbound.content import normalise_email, safe_address, valid_email


class RecipientChoice(BaseModel):
    """Who a reply goes to, what the approver must be warned about, and what they may pick."""

    to: list[Address]
    warning: str = ""
    needs_explicit_choice: bool = False
    alternatives: list[Address] = []


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # The bundled public-suffix snapshot only: no network fetch, ever.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=4096)
def registrable_domain(email: str) -> str:
    """The registrable domain of an address (example.co.uk for a@mail.example.co.uk)."""
    host = normalise_email(email).rpartition("@")[2]
    parts = _extractor()(host)
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}"
    return host


def _allowlisted(email: str, allowlist: list[str]) -> bool:
    domain = normalise_email(email).rpartition("@")[2]
    for entry in allowlist:
        entry = entry.strip().lower().lstrip("@")
        if entry and (domain == entry or domain.endswith("." + entry)):
            return True
    return False


def compute_recipients(
    message: InboundMessage, config: OutboundConfig, *, agent_email: str, own_emails: tuple[str, ...] = ()
) -> RecipientChoice:
    """From, or Reply-To when it shares From's registrable domain or is allowlisted; capped."""
    ours = {normalise_email(agent_email), *(normalise_email(e) for e in own_emails)}
    sender = safe_address(message.sender)
    if not valid_email(sender.email):
        return RecipientChoice(to=[], warning="the message has no usable From address; nobody to reply to")
    if sender.email in ours:
        return RecipientChoice(to=[], warning="the message came from our own address; replying would loop")
    reply_to: list[Address] = []
    invalid: list[str] = []
    for address in message.reply_to:
        safe = safe_address(address)
        if not valid_email(safe.email):
            invalid.append(address.email)
        elif safe.email not in ours and safe.email not in {a.email for a in reply_to}:
            reply_to.append(safe)
    warnings = [f"ignored an unusable Reply-To address {bad!r}" for bad in invalid[:3]]
    if not reply_to or [a.email for a in reply_to] == [sender.email]:
        return RecipientChoice(to=[sender], warning="; ".join(warnings))
    sender_domain = registrable_domain(sender.email)
    trusted = [
        a for a in reply_to
        if registrable_domain(a.email) == sender_domain or _allowlisted(a.email, config.reply_to_allowlist)
    ]
    foreign = [a for a in reply_to if a not in trusted]
    cap = max(1, config.max_recipients)
    if foreign:
        names = ", ".join(a.email for a in foreign[:3])
        warnings.insert(
            0,
            f"Reply-To ({names}) is on another domain than From ({sender.email}); the reply goes to "
            "From unless you explicitly choose the Reply-To address",
        )
        return RecipientChoice(
            to=[sender], warning="; ".join(warnings), needs_explicit_choice=True, alternatives=foreign[:cap]
        )
    if len(trusted) > cap:
        warnings.append(f"Reply-To lists {len(trusted)} addresses; only the first {cap} are kept")
    warnings.insert(0, f"Reply-To differs from From ({sender.email}); replying to Reply-To on the same domain")
    return RecipientChoice(to=trusted[:cap], warning="; ".join(warnings), alternatives=[sender])
