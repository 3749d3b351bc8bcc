"""The whole sandbox state: grants, mailboxes, guardrails, webhooks, faults, stats, truth."""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from triage_tui.sandbox.accounts import AccountError, new_grant_id, parse_request
from triage_tui.sandbox.delivery import DeliverySettings
from triage_tui.sandbox.faults import Faults
from triage_tui.sandbox.guardrails import Guardrails
from triage_tui.sandbox.mailbox import Mailbox, MailRecord, record_from_parsed
from triage_tui.sandbox.sending import IdempotencyCache
from triage_tui.sandbox.webhooks import Deliverer, notification, public

DEFAULT_API_KEY = "sandbox-key"
DEFAULT_GRANT_ID = "sandbox-grant-0001"
DEFAULT_EMAIL = "support@sandbox.nylas.email"


@dataclass
class SandboxOptions:
    """How to build a sandbox (the `triage-tui sandbox` flags, minus host and port)."""

    api_key: str = DEFAULT_API_KEY
    grant_ids: list[str] = field(default_factory=lambda: [DEFAULT_GRANT_ID])
    emails: list[str] = field(default_factory=list)
    seed: int = 7
    messages: int = 300
    import_path: str | None = None
    faults: dict = field(default_factory=dict)
    # Extra domains registered for Agent Accounts (those of the grants above always are).
    domains: list[str] = field(default_factory=list)
    # Delivery-status settings (see delivery.ALL_KEYS): bounce/reject/complaint domains, delays.
    delivery: dict = field(default_factory=dict)
    webhook_backoff_s: float = 2.0
    webhook_timeout_s: float = 10.0
    challenge_timeout_s: float = 10.0

    def email_for(self, index: int) -> str:
        """The agent address of the index-th grant."""
        if index < len(self.emails):
            return self.emails[index]
        base = self.emails[0] if self.emails else DEFAULT_EMAIL
        if index == 0:
            return base
        local, _, domain = base.partition("@")
        return f"{local}+{index + 1}@{domain}"


class Stats:
    """Counters the admin API reports (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter = Counter()
        self.sends: Counter = Counter()
        self.faults: Counter = Counter()
        self.webhook_attempts: list[dict] = []

    def request(self, route: str) -> None:
        """Count one request served by a route."""
        with self._lock:
            self.requests[route] += 1

    def fault(self, kind: str) -> None:
        """Count one injected fault."""
        with self._lock:
            self.faults[kind] += 1

    def sent(self, grant_id: str) -> None:
        """Count one delivered send."""
        with self._lock:
            self.sends[grant_id] += 1

    def webhook_attempt(self, dest_id: str, event: dict, attempt: int, status: int, ok: bool) -> None:
        """Record one webhook delivery attempt."""
        with self._lock:
            self.webhook_attempts.append({
                "webhook_id": dest_id, "event_id": event["id"], "type": event["type"],
                "attempt": attempt, "status": status, "ok": ok, "at": time.time()})

    def as_dict(self) -> dict:
        """A JSON-ready snapshot."""
        with self._lock:
            attempts = list(self.webhook_attempts)
            return {
                "requests": dict(self.requests),
                "requests_total": sum(self.requests.values()),
                "sends_delivered": dict(self.sends),
                "faults_injected": dict(self.faults),
                "webhook_attempts": attempts,
                "webhook_attempts_total": len(attempts),
                "webhook_deliveries_ok": sum(1 for a in attempts if a["ok"]),
            }


class Sandbox:
    """All mutable state behind one lock, shared by the HTTP app and background threads."""

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self.api_key = self.options.api_key
        self.admin_key = self.options.api_key
        self.bearer_tokens: frozenset[bytes] = frozenset({f"Bearer {self.api_key}".encode()})
        self.registered_domains = {d.strip().lower() for d in self.options.domains if d.strip()}
        self.lock = threading.RLock()
        self.guardrails = Guardrails()
        self.mailboxes: dict[str, Mailbox] = {}
        self.grants: dict[str, dict] = {}
        self.by_email: dict[str, str] = {}
        self.truth: dict[str, dict] = {}
        self.webhooks: dict[str, dict] = {}
        self.faults = Faults(seed=self.options.seed)
        self.faults.update(self.options.faults)
        self.delivery = DeliverySettings(seed=self.options.seed)
        self.delivery.update(self.options.delivery)
        self.stats = Stats()
        self.idempotency = IdempotencyCache()
        self.import_skipped: list[tuple[str, str]] = []
        self.deliverer = Deliverer(self._destination, self.stats,
                                   backoff_s=self.options.webhook_backoff_s,
                                   timeout_s=self.options.webhook_timeout_s)
        for index, grant_id in enumerate(self.options.grant_ids):
            self.add_grant(grant_id, self.options.email_for(index))

    def close(self) -> None:
        """Stop background delivery."""
        self.deliverer.stop()

    def _destination(self, dest_id: str) -> dict | None:
        with self.lock:
            return self.webhooks.get(dest_id)

    def add_grant(self, grant_id: str, email: str, name: str = "Support Agent",
                  workspace_id: str | None = None) -> dict:
        """A new valid Agent Account grant with its own mailbox, in a workspace of its domain."""
        with self.lock:
            domain = email.rpartition("@")[2].lower()
            self.registered_domains.add(domain)
            if workspace_id is None:
                workspace_id = self.guardrails.default_workspace(domain)["workspace_id"]
            now = int(time.time())
            grant = {"id": grant_id, "provider": "nylas", "email": email,
                     "name": name, "grant_status": "valid", "scope": [],
                     "settings": {"email": email}, "workspace_id": workspace_id,
                     "blocked": False, "email_aliases": [], "created_at": now, "updated_at": now}
            self.grants[grant_id] = grant
            self.by_email[email.lower()] = grant_id
            self.mailboxes[grant_id] = Mailbox(grant_id, email, grant["name"])
            return grant

    def create_agent_account(self, body: dict) -> tuple[dict, bool]:
        """POST /v3/connect/custom: (grant, created); an existing address is re-authenticated."""
        with self.lock:
            email, name, workspace_id = parse_request(body, self.registered_domains)
            if workspace_id is not None and workspace_id not in self.guardrails.workspaces:
                raise AccountError(f"workspace {workspace_id} not found", 404)
            existing = self.grant(email)
            if existing is not None:
                if name:
                    existing.update(name=name, updated_at=int(time.time()))
                return existing, False
            if workspace_id is None:
                domain = email.rpartition("@")[2].lower()
                grouped = [w for w in self.guardrails.workspaces.values()
                           if w["auto_group"] and w["domain"] == domain]
                default = [w for w in self.guardrails.workspaces.values() if w.get("default")]
                chosen = grouped or default
                workspace_id = chosen[0]["workspace_id"] if chosen else None
            grant = self.add_grant(new_grant_id(), email, name, workspace_id)
        self.notify("grant.created", {"grant_id": grant["id"], "provider": "nylas"}, "/nylas/system",
                    grant_id=grant["id"])
        return grant, True

    def delete_grant(self, grant_id: str) -> None:
        """DELETE /v3/grants/{id}: the account, its mailbox and its mail are gone."""
        with self.lock:
            grant = self.grants.pop(grant_id)
            self.by_email.pop(grant["email"].lower(), None)
            self.mailboxes.pop(grant_id, None)
        self.notify("grant.deleted", {"grant_id": grant_id, "provider": "nylas"}, "/nylas/system",
                    grant_id=grant_id)

    def assign_grants(self, workspace_id: str, assign: list[str], remove: list[str]) -> dict:
        """POST /v3/workspaces/{id}/manual-assign: move grants in; removed ones go to the default."""
        with self.lock:
            ws = self.guardrails.workspaces[workspace_id]
            default = next((w["workspace_id"] for w in self.guardrails.workspaces.values()
                            if w.get("default")), None)
            assigned = [g for g in assign if g in self.grants]
            removed = [g for g in remove if g in self.grants
                       and self.grants[g]["workspace_id"] == workspace_id]
            now = int(time.time())
            for grant_id in assigned:
                self.grants[grant_id].update(workspace_id=workspace_id, updated_at=now)
            for grant_id in removed:
                self.grants[grant_id].update(workspace_id=default, updated_at=now)
            return {"application_id": ws["application_id"], "workspace_id": workspace_id,
                    "domain": ws["domain"], "grants_assigned": assigned or None,
                    "grants_removed": removed or None}

    def set_keys(self, issue: list[str], revoke: list[str]) -> list[str]:
        """Issue and revoke API keys for /v3 (the admin API keeps the key the sandbox started with)."""
        with self.lock:
            active = {t.decode().removeprefix("Bearer ") for t in self.bearer_tokens}
            active = (active | set(issue)) - set(revoke)
            self.bearer_tokens = frozenset(f"Bearer {k}".encode() for k in active)
            return sorted(active)

    def grant(self, ref: str) -> dict | None:
        """A grant by id, `grant:<id>`, email or `email:<email>`."""
        ref = ref.removeprefix("grant:").removeprefix("email:")
        grant = self.grants.get(ref)
        if grant is None and "@" in ref:
            grant = self.grants.get(self.by_email.get(ref.lower(), ""))
        return grant

    def seed_mail(self, grant_id: str, record: MailRecord, received_at: int,
                  truth: dict | None = None) -> str:
        """Store seeded or imported mail without rules or webhooks; returns the message id."""
        with self.lock:
            box = self.mailboxes[grant_id]
            own = any(e.lower() == box.email.lower() for _, e in record.from_)
            msg = box.add(record, received_at, ["SENT"] if own else ["INBOX"], unread=not own)
            if truth:
                self.truth[msg.id] = dict(truth)
            return msg.id

    def deliver(self, grant_id: str, record: MailRecord, received_at: int | None = None,
                truth: dict | None = None) -> dict:
        """New inbound mail: rules applied and recorded, stored unless blocked, webhooks fired."""
        with self.lock:
            box = self.mailboxes[grant_id]
            ws_id = self.grants[grant_id]["workspace_id"]
            sender = record.from_[0][1] if record.from_ else ""
            verdict, evaluation_input = self.guardrails.evaluate(ws_id, sender)
            if verdict.blocked:
                mid = uuid.uuid4().hex[:25]
                self.guardrails.record(grant_id, mid, ws_id, verdict, evaluation_input, [])
                return {"id": mid, "blocked": True, "folders": []}
            folders = ["INBOX"]
            if verdict.archived:
                folders = ["ARCHIVE"]
            folders += [box.folder_id(name) for name in verdict.folder_names]
            if verdict.spam:
                folders = ["JUNK"]
            if verdict.trashed:
                folders = ["TRASH"]
            folders = list(dict.fromkeys(folders))
            msg = box.add(record, received_at or int(time.time()), folders,
                          unread=not verdict.read, starred=verdict.starred)
            self.guardrails.record(grant_id, msg.id, ws_id, verdict, evaluation_input, folders)
            if truth:
                self.truth[msg.id] = dict(truth)
            self.notify("message.created", msg.to_dict())
            return {"id": msg.id, "thread_id": msg.thread_id, "blocked": False,
                    "folders": folders, "matched_rule_ids": verdict.matched_rule_ids}

    def notify(self, trigger: str, obj: dict, source: str = "/nylas/emails/realtime", *,
               grant_id: str | None = None, delays: list[float] | None = None,
               extra: dict | None = None) -> None:
        """Queue one notification to every active destination subscribed to the trigger.

        `delays` sends one copy of the same event (same id) after each delay, in seconds.
        """
        with self.lock:
            targets = [d["id"] for d in self.webhooks.values()
                       if d["status"] == "active" and trigger in d["trigger_types"]]
        if not targets:
            return
        event = notification(trigger, obj, source, grant_id=grant_id, extra=extra)
        if delays is None:
            delays = [0.0, 0.0] if self.faults.duplicate_webhooks else [0.0]
        for dest_id in targets:
            for delay_s in delays:
                self.deliverer.enqueue(dest_id, event, delay_s=delay_s)

    def sent(self, grant_id: str, message: dict, metadata: dict | None) -> None:
        """After a send: its delivery-status events, each late by its own delay, some twice."""
        for trigger, obj, delays, extra in self.delivery.schedule(grant_id, message, metadata):
            self.notify(trigger, obj, "/nylas/send", grant_id=grant_id, delays=delays, extra=extra)

    def public_webhook(self, dest_id: str, *, with_secret: bool = False) -> dict:
        """A destination as served."""
        with self.lock:
            return public(self.webhooks[dest_id], with_secret=with_secret)


@functools.lru_cache(maxsize=8)
def _generated(seed: int, messages: int, email: str, now: int) -> tuple:
    """Parsed generated mail, cached per process (tests start many sandboxes)."""
    from triage_tui.sandbox.mime import parse_mime
    from triage_tui.sandbox.seed import generate_mailbox

    return tuple(
        (record_from_parsed(parse_mime(mail.raw)), mail.received_at - now,
         {"category": mail.category, "urgency": mail.urgency, "kind": mail.kind})
        for mail in generate_mailbox(seed, messages, agent_email=email, now=now))


def load_initial_mail(sandbox: Sandbox) -> None:
    """Fill every grant from the seeded generator and/or an import, as the options say."""
    options = sandbox.options
    now = int(time.time())
    if options.messages > 0:
        for index, grant_id in enumerate(options.grant_ids):
            email = sandbox.grants[grant_id]["email"]
            # The cache key uses the hour, so a reused mailbox is at most an hour old.
            hour = now - now % 3600
            for record, age, truth in _generated(options.seed + index, options.messages, email, hour):
                fresh = dataclasses.replace(record, headers=list(record.headers))
                sandbox.seed_mail(grant_id, fresh, now + age, truth)
    if options.import_path:
        from triage_tui.sandbox.importer import load_mail
        from triage_tui.sandbox.mime import parse_mime

        result = load_mail(options.import_path)
        sandbox.import_skipped = list(result.skipped)
        grant_id = options.grant_ids[0]
        for offset, raw in enumerate(result.mails):
            try:
                parsed = parse_mime(raw)
            except ValueError as exc:
                sandbox.import_skipped.append((f"mail #{offset + 1}", str(exc)))
                continue
            date = parsed.date or now - len(result.mails) + offset
            sandbox.seed_mail(grant_id, record_from_parsed(parsed), date)


def grouped_truth(sandbox: Sandbox) -> dict:
    """Truth keyed by grant then message id."""
    out: dict = defaultdict(dict)
    with sandbox.lock:
        for grant_id, box in sandbox.mailboxes.items():
            for mid in box.messages:
                if mid in sandbox.truth:
                    out[grant_id][mid] = sandbox.truth[mid]
    return dict(out)
