"""Training labels: the human decisions that named a category, as (text, category) pairs."""

from __future__ import annotations

from triage_tui.store.models import DecisionRow, MessageBody, MessageRow

MAX_TEXT = 20_000


def approved_examples(limit: int | None = None) -> list[tuple[str, str]]:
    """(subject + body, category) for each message's latest human decision that named a category."""
    query = (
        DecisionRow.select(
            DecisionRow.id, DecisionRow.category, MessageRow.subject, MessageBody.body_text,
            MessageBody.snippet, MessageRow.grant_id, MessageRow.message_id,
        )
        .join(MessageRow, on=(DecisionRow.grant_id == MessageRow.grant_id)
              & (DecisionRow.message_id == MessageRow.message_id))
        .join(MessageBody, on=(MessageBody.message == MessageRow.id))
        .where(DecisionRow.category != "")
        .order_by(DecisionRow.id.desc())
        .objects()
    )
    seen: set[tuple[str, str]] = set()
    examples: list[tuple[str, str]] = []
    for row in query.iterator():
        key = (row.grant_id, row.message_id)
        if key in seen:
            continue
        seen.add(key)
        body = row.body_text or row.snippet or ""
        examples.append((f"{row.subject}\n{body}"[:MAX_TEXT], row.category))
        if limit is not None and len(examples) >= limit:
            break
    examples.reverse()
    return examples


def labelled_decision_count() -> int:
    """How many decisions named a category (the worker retrains when this grows)."""
    return DecisionRow.select().where(DecisionRow.category != "").count()
