"""Small, made-up support mail for the classifier tests (no external data)."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from triage_tui.domain import Address, Header, InboundMessage

TEMPLATES: dict[str, list[str]] = {
    "billing": [
        "I was charged twice for my {plan} subscription this month",
        "Can you send me the invoice for {month}? Our accountant needs it",
        "Please refund the payment for the {plan} plan, we cancelled in {month}",
        "Why did the price of the {plan} plan go up on my last receipt",
        "Our credit card was billed the wrong amount in {month}",
        "Need a VAT number on the {month} invoice for the {plan} plan",
    ],
    "bug": [
        "The {feature} page crashes with an error when I click save",
        "Getting a 500 error from the {feature} endpoint since {month}",
        "The {feature} export is broken and produces an empty file",
        "App freezes and shows a stack trace on the {feature} screen",
        "{feature} does not work anymore after the last update",
        "Every time I open {feature} it fails with an exception",
    ],
    "account_access": [
        "I cannot log in to my account, the password reset email never arrives",
        "Locked out after too many attempts, please unlock user {name}",
        "My two-factor codes stopped working and I can't access {feature}",
        "SSO login loops back to the sign in page for {name}",
        "Please reset my password, I forgot it after the {month} holiday",
        "The verification code for {name} is rejected at sign in",
    ],
    "feature_request": [
        "It would be great if {feature} supported dark mode",
        "Could you add an export to CSV in {feature}?",
        "Feature request: let us schedule {feature} reports weekly",
        "Please add an integration with {tool} for {feature}",
        "Suggestion: keyboard shortcuts in {feature} would help a lot",
        "Is a {tool} connector for {feature} on your roadmap?",
    ],
    "spam": [
        "Congratulations {name}, you have won a {tool} gift card, claim your prize now",
        "Boost your SEO ranking with our backlinks package, limited time offer",
        "Guest post opportunity on our high authority blog, act now",
        "Cheap casino bonus codes for {month}, unsubscribe any time",
        "Crypto giveaway: send 1 coin and receive 2 back today",
        "Our SEO services will put {tool} on the first page, reply for pricing",
    ],
    "other": [
        "Thanks for the quick help last week, {name} says hello",
        "Who is our account manager? {name} asked me to check",
        "Just confirming our meeting about {tool} next {month}",
        "Out of curiosity, where is your team based?",
        "Do you have a press kit we could use for our {month} newsletter",
        "Hi, I am {name} and I joined the team that uses {tool}",
    ],
}
FILLERS = {
    "plan": ["Pro", "Team", "Enterprise", "Starter", "Business"],
    "month": ["January", "March", "May", "July", "September", "November"],
    "feature": ["dashboard", "reports", "calendar", "search", "billing portal", "inbox"],
    "name": ["Alice", "Bob", "Chen", "Dana", "Emeka", "Farah"],
    "tool": ["Slack", "Jira", "Salesforce", "Zendesk", "GitHub", "Notion"],
}
CATEGORIES = list(TEMPLATES)


def fill(template: str, rng: random.Random) -> str:
    """One template with random fillers."""
    return template.format(**{k: rng.choice(v) for k, v in FILLERS.items()})


def examples(per_category: int, seed: int = 7) -> list[tuple[str, str]]:
    """(text, category) pairs, `per_category` of each, deterministic for a seed."""
    rng = random.Random(seed)
    rows = [
        (fill(rng.choice(templates), rng), category)
        for category, templates in TEMPLATES.items()
        for _ in range(per_category)
    ]
    rng.shuffle(rows)
    return rows


def message(
    subject: str,
    body: str = "",
    *,
    sender: str = "customer@example.com",
    headers: dict[str, str] | None = None,
    message_id: str = "m1",
) -> InboundMessage:
    """An inbound message as ingest would hand it to a classifier."""
    return InboundMessage(
        grant_id="grant-1",
        message_id=message_id,
        subject=subject,
        body_text=body,
        sender=Address(email=sender),
        received_at=datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc),
        headers=[Header(name=k, value=v) for k, v in (headers or {}).items()],
    )
