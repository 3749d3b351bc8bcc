"""What became of a send: the Agent Account delivery-status events (delivered, bounced, complaint,
rejected) and message.send_failed for a queued send that fails, by recipient domain, scheduled at
least once and out of order as Nylas delivers them."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

DELIVERY_TRIGGERS = ("message.delivered", "message.bounced", "message.complaint", "message.rejected",
                     "message.send_failed")
DOMAIN_KEYS = ("bounce_domains", "reject_domains", "complaint_domains", "fail_domains")
ALL_KEYS = DOMAIN_KEYS + ("duplicate_rate", "delay_s", "seed")
BOUNCE_DIAGNOSTIC = "smtp; 550 5.1.1 <{email}>: Recipient address rejected: User unknown"
LOG_LIMIT = 10_000


class DeliveryError(ValueError):
    """A delivery setting the sandbox cannot use."""


def _domains(value, key: str) -> set[str]:
    if not isinstance(value, list) or not all(isinstance(d, str) and d.strip() for d in value):
        raise DeliveryError(f"{key} must be a list of domain names")
    return {d.strip().lower().lstrip("@") for d in value}


@dataclass
class DeliverySettings:
    """Which recipient domains bounce, reject or complain, and how late and how often events come."""

    bounce_domains: set[str] = field(default_factory=set)
    reject_domains: set[str] = field(default_factory=set)
    complaint_domains: set[str] = field(default_factory=set)
    # A send to one of these is queued (202) and later fails: message.send_failed, nothing delivered.
    fail_domains: set[str] = field(default_factory=set)
    duplicate_rate: float = 0.1
    delay_s: tuple[float, float] = (0.05, 1.0)
    seed: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)
        self.log: list[dict] = []

    def update(self, settings: dict) -> None:
        """Change settings from an admin body or CLI flags; DeliveryError names a bad key."""
        if not isinstance(settings, dict):
            raise DeliveryError("delivery settings must be a JSON object")
        unknown = sorted(set(settings) - set(ALL_KEYS))
        if unknown:
            raise DeliveryError(f"unknown delivery setting: {unknown[0]} (known: {', '.join(ALL_KEYS)})")
        clean: dict = {}
        for key in DOMAIN_KEYS:
            if key in settings:
                clean[key] = _domains(settings[key], key)
        if "duplicate_rate" in settings:
            rate = settings["duplicate_rate"]
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise DeliveryError("duplicate_rate must be between 0 and 1")
            clean["duplicate_rate"] = float(rate)
        if "delay_s" in settings:
            delay = settings["delay_s"]
            if (not isinstance(delay, list | tuple) or len(delay) != 2
                    or not all(isinstance(d, int | float) and d >= 0 for d in delay) or delay[0] > delay[1]):
                raise DeliveryError("delay_s must be [min, max] seconds with 0 <= min <= max")
            clean["delay_s"] = (float(delay[0]), float(delay[1]))
        with self._lock:
            for key, value in clean.items():
                setattr(self, key, value)
            if "seed" in settings:
                self._rng = random.Random(int(settings["seed"]))

    def as_dict(self) -> dict:
        """A JSON-ready view of the settings and the events generated so far."""
        with self._lock:
            return {"bounce_domains": sorted(self.bounce_domains),
                    "reject_domains": sorted(self.reject_domains),
                    "complaint_domains": sorted(self.complaint_domains),
                    "fail_domains": sorted(self.fail_domains),
                    "duplicate_rate": self.duplicate_rate, "delay_s": list(self.delay_s),
                    "events": list(self.log)}

    def fails(self, recipients: list[str]) -> bool:
        """True when a send to these recipients is queued and then fails."""
        with self._lock:
            return any(r.rpartition("@")[2].lower() in self.fail_domains for r in recipients)

    def schedule(self, grant_id: str, sent: dict, metadata: dict | None, now: float | None = None
                 ) -> list[tuple[str, dict, list[float], dict]]:
        """The events of one send, one per outcome: (trigger, data.object, a delay per copy in s,
        other `data` fields)."""
        now = int(now if now is not None else time.time())
        summary = message_summary(sent, metadata)
        recipients = [*summary["to"], *summary.get("cc", []), *summary.get("bcc", [])]
        failed = self.fails(recipients)
        with self._lock:
            by_domain = {r: r.rpartition("@")[2].lower() for r in recipients}
            events: list[tuple[str, dict]] = []
            if failed:
                events.append(("message.send_failed", sent))
            elif any(d in self.reject_domains for d in by_domain.values()):
                events.append(("message.rejected", {"message": summary, "rejected_at": now}))
            else:
                bounced = [r for r, d in by_domain.items() if d in self.bounce_domains]
                delivered = [r for r in recipients if r not in bounced]
                if delivered:
                    events.append(("message.delivered", {"message": summary, "delivered": {
                        "delivered_at": now, "recipients": delivered}}))
                if bounced:
                    events.append(("message.bounced", {"message": summary, "bounce": {
                        "bounced_at": now, "type": "NoEmail",
                        "recipients": [{"email": r, "diagnostic_code": BOUNCE_DIAGNOSTIC.format(email=r)}
                                       for r in bounced]}}))
                complained = [r for r in delivered if by_domain[r] in self.complaint_domains]
                if complained:
                    events.append(("message.complaint", {"message": summary, "complaint": {
                        "reported_at": now, "type": "abuse", "complained_recipients": complained}}))
            low, high = self.delay_s
            out = []
            for trigger, obj in events:
                copies = 2 if self._rng.random() < self.duplicate_rate else 1
                extra = {"reason": "The recipient's mail server could not be reached.",
                         "error": {"type": "api.provider_error", "message": "delivery failed after queueing",
                                   "status_code": 502}} if trigger == "message.send_failed" else {}
                out.append((trigger, obj, [self._rng.uniform(low, high) for _ in range(copies)], extra))
                self.log.append({"type": trigger, "grant_id": grant_id, "message_id": summary["id"],
                                 "copies": copies, "at": now})
            del self.log[:-LOG_LIMIT]
        return out


def message_summary(sent: dict, metadata: dict | None) -> dict:
    """The `message` summary every delivery event carries: addresses as plain strings."""
    def emails(key: str) -> list[str]:
        return [p["email"] for p in sent.get(key) or [] if p.get("email")]

    summary: dict = {"id": sent["id"], "subject": sent.get("subject", ""),
                     "from": next(iter(emails("from")), ""), "to": emails("to"),
                     "sent_at": int(sent.get("date") or time.time())}
    for key in ("cc", "bcc"):
        if emails(key):
            summary[key] = emails(key)
    if metadata:
        summary["metadata"] = dict(metadata)
    return summary
