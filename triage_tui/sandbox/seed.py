"""A deterministic generator of realistic SaaS support mail for the sandbox's mailbox."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from triage_tui.sandbox import seed_cases as cases
from triage_tui.sandbox import seed_corpus as corpus
from triage_tui.sandbox.seed_compose import (
    Person, Values, colleague, compose, date_text, fill, foreign_subject, forward_text, legacy_flavour, make_person,
    quote_html, quote_plain, signature, to_html, with_hidden_characters, with_injection,
)
from triage_tui.sandbox.seed_render import (
    Part, address, addresses, encoded_words, fold_ids, multipart, render, text_part,
)

SPAN_SECONDS = 4 * 86400
QUOTE_LIMIT = 4000
DEFAULT_MESSAGES = 300
LARGE_BODY_MIN_MESSAGES = 20
HARD_KINDS = (
    "forward", "cc_chain", "html_only", "windows_1252", "iso_8859_1", "rfc2047", "hidden_chars",
    "reply_to_mismatch", "prompt_injection", "attachment", "bounce", "mailing_list", "auto_reply", "conversation",
)
FIRST_KIND_WEIGHTS = {
    "plain": 52, "spam": 12, "mailing_list": 4, "html_only": 5, "attachment": 5, "cc_chain": 4, "forward": 3,
    "reply_to_mismatch": 3, "rfc2047": 3, "windows_1252": 2, "iso_8859_1": 2, "hidden_chars": 2,
    "prompt_injection": 2, "auto_reply": 2, "bounce": 2, "conversation": 3,
}
DRIP_KINDS = ("plain", "plain", "plain", "html_only", "attachment", "rfc2047", "prompt_injection", "spam",
              "mailing_list", "cc_chain", "reply_to_mismatch")
CATEGORY_WEIGHTS = {"billing": 26, "bug": 30, "account_access": 18, "feature_request": 15, "other": 8}
URGENCY_WEIGHTS = {
    "billing": (20, 55, 20, 5), "bug": (8, 40, 32, 20), "account_access": (8, 45, 32, 15),
    "feature_request": (62, 36, 2, 0), "other": (60, 40, 0, 0), "spam": (1, 0, 0, 0),
}
ESCALATING = ("billing", "bug", "account_access")
AGENT_GREETING_NAMES = ("Sam", "Alex", "Jordan", "support team", "team")
SPAMMERS = (
    ("Jessica from GrowthLab", "jessica@growthlab-seo.example"), ("Account Security", "no-reply@secure-verify.example.net"),
    ("Dr. James Wilson", "j.wilson@intl-finance.example"), ("Mailbox Admin", "admin@mailbox-quota.example"),
    ("Lead Gen Pro", "sales@leadgen-pro.example.org"), ("Awards Committee", "awards@biz-awards.example"),
)
_EMAIL = re.compile(r"[\w.+'-]+@[\w.-]+")
PHISHING_REPLY_TO = ("payments@{slug}-billing-secure.example", "accounts@remit-{slug}.example.net")


@dataclass
class SeedMail:
    """One generated message and the truth the evaluation keeps about it (never served)."""

    raw: bytes
    received_at: int
    category: str
    urgency: str
    kind: str


@dataclass
class _Msg:
    """What later messages in a thread need to know about an earlier one."""

    message_id: str
    references: list[str]
    subject: str
    text: str
    html: str
    sender: Person
    ts: int
    header_block: str
    cc: list[Person] = field(default_factory=list)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]


def _slug(person: Person) -> str:
    return person.domain.split(".")[0]


class _Generator:
    """Builds threads of mail into `out`, drawing every choice from one seeded Random."""

    def __init__(self, rng: random.Random, agent_email: str, now: int) -> None:
        self.rng = rng
        self.now = now
        domain = agent_email.rpartition("@")[2] or "agent.example"
        self.agent = Person(f"{corpus.VENDOR} Support", agent_email, corpus.VENDOR, domain, False, "Support", "", 0)
        self.out: list[SeedMail] = []
        self.reply_to_turn = self.attachment_turn = 0  # rotate variants so each shows up in a small mailbox

    # -- plumbing ---------------------------------------------------------------------------

    def boundary(self) -> str:
        return f"=_b{self.rng.getrandbits(64):016x}"

    def emit(self, sender: Person, to: list[Person], subject: str, ts: int, part: Part, truth: tuple[str, str, str],
             *, parent: _Msg | None = None, cc: list[Person] | tuple = (), reply_to: tuple[str, str] | None = None,
             extra: tuple[tuple[str, str], ...] = (), text: str = "", html: str = "", return_path: str = "",
             threaded: bool = True) -> _Msg:
        """Render one message, append it to the mailbox and return what replies need."""
        rng = self.rng
        message_id = f"<{rng.getrandbits(64):016x}.{rng.getrandbits(20):05x}@{sender.domain}>"
        refs = parent.references + [parent.message_id] if parent and threaded else []
        date = date_text(ts, sender.tz_hours)
        relay = sender.domain if sender.domain.startswith("mx") else f"mx.{sender.domain}"
        headers = [
            ("Return-Path", return_path or f"<{sender.email}>"),
            ("Received", f"from {relay} ({relay} [192.0.2.{rng.randrange(1, 255)}]) "
                         f"by mx.{self.agent.domain} with ESMTPS id {rng.getrandbits(40):010X};\r\n {date}"),
            ("From", address(sender.name, sender.email)),
            ("To", addresses([(p.name, p.email) for p in to])),
        ]
        if cc:
            headers.append(("Cc", addresses([(p.name, p.email) for p in cc])))
        if reply_to:
            headers.append(("Reply-To", address(*reply_to)))
        headers += [("Subject", subject), ("Date", date), ("Message-ID", message_id)]
        if refs:
            headers += [("In-Reply-To", refs[-1]), ("References", fold_ids(refs[-10:]))]
        headers.extend(extra)
        raw = render(headers, part)
        self.out.append(SeedMail(raw, ts, *truth))
        block = raw.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
        return _Msg(message_id, refs, subject, text, html, sender, ts, block, list(cc))

    def plain_or_alternative(self, text: str, html: str = "", charset: str = "utf-8") -> Part:
        cte = self.rng.choice(("8bit", "8bit", "quoted-printable", "base64"))
        plain = text_part("plain", text, charset, cte)
        if not html:
            return plain
        return multipart("alternative", [plain, text_part("html", html, cte=cte)], self.boundary())

    @staticmethod
    def quoted_html(parent: _Msg) -> str:
        """The parent as quoted HTML history, capped so a huge parent is not copied whole."""
        source = parent.html if parent.html and len(parent.html) <= QUOTE_LIMIT else to_html(parent.text[:QUOTE_LIMIT])
        return quote_html(source, parent.sender.name, parent.sender.email, parent.ts)

    @staticmethod
    def re(subject: str, prefix: str = "Re: ") -> str:
        return subject if subject.lower().startswith(("re:", "aw:")) else prefix + subject

    # -- threads ----------------------------------------------------------------------------

    def plan_steps(self, first_kind: str, category: str) -> list[str]:
        rng = self.rng
        forced = {"auto_reply": ["agent", "auto"], "bounce": ["agent_typo", "bounce"], "cc_chain": ["cc_reply"],
                  "html_only": ["follow", "html_reply"], "large_body": []}
        if category == "spam" or first_kind in ("spam", "mailing_list"):
            return []
        if first_kind == "conversation":
            return ["agent", "follow", "agent", "follow"][: rng.randrange(3, 5)] + rng.choice(([], ["html_reply"]))
        if first_kind in forced:
            return forced[first_kind] + rng.choice(([], [], ["follow"]))
        steps, last = [], "customer"
        for _ in range(rng.choices((0, 1, 2, 3, 4), weights=(45, 30, 15, 7, 3))[0]):
            roll = rng.random()
            if last == "agent":
                step = "follow" if roll < 0.7 else "auto" if roll < 0.85 else "html_reply"
            else:
                step = "follow" if roll < 0.7 else "agent" if roll < 0.85 else "html_reply"
            steps.append(step)
            last = "agent" if step == "agent" else "customer"
        return steps

    def topic(self, first_kind: str) -> tuple[str, str]:
        rng = self.rng
        if first_kind == "large_body":
            return "bug", "high"
        if first_kind == "reply_to_mismatch":
            self.reply_to_turn += 1
        if first_kind == "spam" or (first_kind == "reply_to_mismatch" and self.reply_to_turn % 3 == 0):
            return "spam", "low"
        category = _weighted(rng, CATEGORY_WEIGHTS)
        return category, rng.choices(corpus.URGENCIES, weights=URGENCY_WEIGHTS[category])[0]

    def thread(self, first_kind: str, at: int | None = None) -> None:
        """Append one thread that starts with a message of the given kind."""
        rng = self.rng
        if first_kind == "mailing_list":
            self.list_mail(at if at is not None else self.now - rng.randrange(600, SPAN_SECONDS))
            return
        category, urgency = self.topic(first_kind)
        steps = [] if at is not None else self.plan_steps(first_kind, category)
        gaps = [rng.randrange(300, 8 * 3600) for _ in steps]
        start = at if at is not None else self.now - rng.randrange(1800, SPAN_SECONDS)
        overshoot = start + sum(gaps) - (self.now - 60)
        if at is None and overshoot > 0:
            start -= overshoot
        msg = self.first_message(first_kind, category, urgency, start)
        customer, last_real, ts = msg.sender, msg, start
        for step, gap in zip(steps, gaps):
            ts += gap
            if step == "follow" and category in ESCALATING and urgency in ("normal", "high") and rng.random() < 0.2:
                urgency = "high" if urgency == "normal" else "critical"
            made = getattr(self, f"step_{step}")(last_real, customer, category, urgency, ts)
            if step not in ("auto", "bounce"):
                last_real = made

    def first_message(self, kind: str, category: str, urgency: str, ts: int) -> _Msg:
        rng = self.rng
        customer = self.spammer() if category == "spam" and kind != "reply_to_mismatch" else make_person(rng)
        values = Values(rng, customer, rng.choice(AGENT_GREETING_NAMES))
        subject, text = compose(rng, category, urgency, customer, values)
        sender, cc, reply_to, charset, hidden = customer, [], None, "utf-8", ""
        truth_kind = kind if kind in HARD_KINDS or kind == "large_body" else "plain"
        if kind in ("auto_reply", "bounce", "conversation"):
            truth_kind = "plain"
        if kind in ("windows_1252", "iso_8859_1"):
            charset = "windows-1252" if kind == "windows_1252" else "iso-8859-1"
            text = legacy_flavour(rng, text, charset, values)
            if rng.random() < 0.8:
                subject = rng.choice(("Anfrage: ", "Demande : ", "Solicitud: ", "Réf. client : ", "Rückfrage: ")) + subject
            subject = encoded_words(subject.encode(charset, "replace").decode(charset), charset)
        elif kind == "rfc2047":
            subject = foreign_subject(rng, values)
        elif kind == "hidden_chars":
            text = with_hidden_characters(rng, text)
        elif kind == "prompt_injection":
            if rng.random() < 0.3:
                hidden = rng.choice(corpus.INJECTIONS)
            else:
                text = with_injection(rng, text)
        elif kind == "reply_to_mismatch":
            reply_to = self.reply_to_for(customer, category)
            if category == "spam":
                subjects, body = rng.choice(corpus.PHISHING)
                subject = fill(rng.choice(subjects), values)
                text = f"{body}\n\n{rng.choice(corpus.CLOSINGS)}\n{signature(rng, customer)}".format_map(values)
        elif kind == "cc_chain":
            cc = [colleague(rng, customer) for _ in range(rng.randrange(1, 3))]
        elif kind == "forward":
            sender = colleague(rng, customer)
            text = forward_text(rng, sender, customer, subject, text, ts - rng.randrange(3600, 86400))
            subject = rng.choice(("Fwd: ", "FW: ", "Fw: ")) + subject
        elif kind == "large_body":
            text += "\n\nHere is the full log from our side, sorry for the length:\n\n" + cases.big_log(rng)
        html = to_html(text, hidden=hidden) if kind == "html_only" or hidden or rng.random() < 0.2 else ""
        if kind == "html_only":
            part = text_part("html", html, cte=rng.choice(("8bit", "quoted-printable")))
        elif kind == "large_body":
            part = text_part("plain", text)
        else:
            part = self.plain_or_alternative(text, html if charset == "utf-8" else "", charset)
        if kind == "attachment":
            self.attachment_turn += 1
            extra_parts = cases.attachments_for(rng, category, self.attachment_turn)
            if html and rng.random() < 0.5:
                inline, tag = cases.inline_image(rng, sender.domain)
                html = html.replace("</body>", tag + "</body>")
                part = multipart("related", [self.plain_or_alternative(text, html), inline], self.boundary())
            part = multipart("mixed", [part, *extra_parts], self.boundary())
        to = [self.agent]
        return self.emit(sender, to, subject, ts, part, (category, urgency, truth_kind), cc=cc, reply_to=reply_to,
                         text=text, html=html)

    def spammer(self) -> Person:
        name, email = self.rng.choice(SPAMMERS)
        return Person(name, email, "", email.rpartition("@")[2], False, "", "", self.rng.choice((0, 3, -4, 8)))

    def reply_to_for(self, customer: Person, category: str) -> tuple[str, str]:
        rng = self.rng
        if category == "spam":
            return customer.name, rng.choice(PHISHING_REPLY_TO).format(slug=_slug(customer))
        if self.reply_to_turn % 3 == 1:
            mailbox_name = rng.choice(("accounts", "billing", "it-help"))
            return f"{customer.company or 'Accounts'} Accounts", f"{mailbox_name}@{customer.domain}"
        return customer.name, f"{_slug(customer)}@tickets.helpdesk.example"

    # -- steps after the first message -------------------------------------------------------

    def step_agent(self, parent: _Msg, customer: Person, category: str, urgency: str, ts: int,
                   typo: bool = False) -> _Msg:
        rng = self.rng
        values = Values(rng, parent.sender, "")
        first = parent.sender.name.split(" ")[0]
        text = (f"Hi {first},\n\n{fill(rng.choice(corpus.AGENT_REPLIES), values)}\n\nBest regards,\n"
                f"{self.agent.name}\n\n" + quote_plain(parent.text, parent.sender.name, parent.sender.email, parent.ts))
        to = parent.sender
        if typo:
            local, _, domain = to.email.partition("@")
            to = Person(to.name, f"{local[:2]}{local[1:]}@{domain}", to.company, domain, to.enterprise, "", "", 0)
        extra = (("X-Triage-Ticket", values["ticket"]), ("X-Mailer", "triage-tui"))
        return self.emit(self.agent, [to], self.re(parent.subject), ts, self.plain_or_alternative(text),
                         (category, urgency, "own_outbound"), parent=parent, extra=extra, text=text)

    def step_agent_typo(self, parent: _Msg, customer: Person, category: str, urgency: str, ts: int) -> _Msg:
        return self.step_agent(parent, customer, category, urgency, ts, typo=True)

    def step_follow(self, parent: _Msg, customer: Person, category: str, urgency: str, ts: int) -> _Msg:
        rng = self.rng
        values = Values(rng, customer, "")
        body = fill(rng.choice(corpus.FOLLOW_UPS[urgency]), values) + "\n\n" + signature(rng, customer)
        text = body + "\n\n" + quote_plain(parent.text, parent.sender.name, parent.sender.email, parent.ts)
        html = ""
        if rng.random() < 0.25:
            html = to_html(body, self.quoted_html(parent))
        prefix = "AW: " if customer.domain.endswith(".de") else rng.choice(("Re: ", "Re: ", "RE: "))
        return self.emit(customer, [self.agent], self.re(parent.subject, prefix), ts,
                         self.plain_or_alternative(text, html), (category, urgency, "reply"), parent=parent,
                         cc=parent.cc, text=text, html=html)

    def step_html_reply(self, parent: _Msg, customer: Person, category: str, urgency: str, ts: int) -> _Msg:
        rng = self.rng
        body = fill(rng.choice(corpus.FOLLOW_UPS[urgency]), Values(rng, customer, "")) + "\n\n" + signature(rng, customer)
        html = to_html(body, self.quoted_html(parent))
        return self.emit(customer, [self.agent], self.re(parent.subject), ts, text_part("html", html),
                         (category, urgency, "html_only"), parent=parent, text=body, html=html)

    def step_cc_reply(self, parent: _Msg, customer: Person, category: str, urgency: str, ts: int) -> _Msg:
        rng = self.rng
        cc = parent.cc or [colleague(rng, customer)]
        sender, newcomer = cc[0], colleague(rng, customer)
        line = rng.choice(("+1, this is affecting my team as well.", f"Adding {newcomer.name} from our IT team.",
                           "Looping in our finance lead, who has the invoice details.", "Same here since this morning."))
        text = line + "\n\n" + signature(rng, sender) + "\n\n" + quote_plain(
            parent.text, parent.sender.name, parent.sender.email, parent.ts)
        return self.emit(sender, [self.agent, customer], self.re(parent.subject), ts, self.plain_or_alternative(text),
                         (category, urgency, "cc_chain"), parent=parent, cc=[*cc[1:], newcomer], text=text)

    def step_auto(self, parent: _Msg, customer: Person, category: str, urgency: str, ts: int) -> _Msg:
        rng = self.rng
        values = Values(rng, customer, "")
        prefix, headers = rng.choice(cases.AUTO_REPLY_STYLES)
        extra = tuple((name, fill(value, values)) for name, value in headers)
        template = corpus.TICKET_ACK_TEXT if prefix.startswith("[Ticket") else rng.choice(corpus.AUTO_REPLY_TEXTS)
        text = fill(template, values) + "\n\n" + customer.name
        return self.emit(customer, [self.agent], fill(prefix, values) + parent.subject, ts, text_part("plain", text),
                         ("other", "low", "auto_reply"), parent=parent, extra=extra, text=text)

    def step_bounce(self, parent: _Msg, customer: Person, category: str, urgency: str, ts: int) -> _Msg:
        rng = self.rng
        mta = f"mx{rng.randrange(1, 4)}.{self.agent.domain}"
        daemon = Person("Mail Delivery System", f"MAILER-DAEMON@{mta}", "", mta, False, "", "", 0)
        to_line = next((line for line in parent.header_block.split("\r\n") if line.startswith("To:")), "")
        found = _EMAIL.search(to_line)
        recipient = found.group(0) if found else customer.email
        part = cases.bounce_part(rng, self.boundary(), mta, recipient, parent.header_block, date_text(parent.ts, 0))
        subject = rng.choice(("Undelivered Mail Returned to Sender", "Delivery Status Notification (Failure)",
                              "Mail delivery failed: returning message to sender"))
        return self.emit(daemon, [self.agent], subject, ts, part, ("other", "low", "bounce"), parent=parent,
                         extra=(("Auto-Submitted", "auto-replied"),), return_path="<>", threaded=False,
                         text="delivery failure")

    def list_mail(self, ts: int) -> None:
        rng = self.rng
        sender_spec, subject, text, extra, category = cases.list_mail(rng, self.agent.email)
        sender = Person(*sender_spec, False, "", "", rng.choice((0, -5, 1)))
        html = to_html(text)
        self.emit(sender, [self.agent], subject, ts, self.plain_or_alternative(text, html),
                  (category, "low", "mailing_list"), extra=extra, text=text, html=html)


def _schedule(rng: random.Random, messages: int) -> list[str]:
    """The hard-case threads every mailbox starts from, so each case is present."""
    reps = 4 if messages >= 200 else max(1, messages // 60)
    kinds = list(HARD_KINDS) * reps
    rng.shuffle(kinds)
    if messages >= LARGE_BODY_MIN_MESSAGES:
        kinds.insert(rng.randrange(len(kinds) + 1), "large_body")
    return kinds


def generate_mailbox(seed: int, messages: int = DEFAULT_MESSAGES, *, agent_email: str, now: int) -> list[SeedMail]:
    """Exactly `messages` mails (oldest first) in threads; the same arguments give the same bytes."""
    if messages <= 0:
        return []
    rng = random.Random(seed)
    generator = _Generator(rng, agent_email, now)
    schedule = _schedule(rng, messages)
    position = 0
    while len(generator.out) < messages:
        kind = schedule[position] if position < len(schedule) else _weighted(rng, FIRST_KIND_WEIGHTS)
        position += 1
        generator.thread(kind)
    mails = generator.out[:messages]
    mails.sort(key=lambda mail: mail.received_at)
    return mails


def drip_mail(rng: random.Random, *, agent_email: str, now: int) -> SeedMail:
    """One new inbound mail received at `now`, for a live demo."""
    generator = _Generator(rng, agent_email, now)
    generator.thread(rng.choice(DRIP_KINDS), at=now)
    return generator.out[0]
