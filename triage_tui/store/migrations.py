"""Schema migrations: an ordered list, applied only when a store is behind.

Version N means the first N migrations have been applied. A new store is created straight at the
latest version from the models (tables, indexes and the NOTIFY triggers), so every migration must
leave an existing store with exactly the schema a new one gets; `tests/store/test_migrations.py`
compares the two on both engines, starting from the frozen version-1 schema in
`tests/store/schemas/`.

To change the schema: change the models, then append a `Migration` that brings a store written
by the previous release to the same place (`playhouse.migrate` for columns and indexes,
`install_triggers(db, tables)` for a new watched table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from peewee import Database


@dataclass(frozen=True)
class Migration:
    """One step of the schema: a name for humans and the function that applies it."""

    name: str
    upgrade: Callable[[Database], None]


def _initial(db: Database) -> None:
    raise RuntimeError("version 1 is the initial schema; every store starts there or later")


def _conversations(db: Database) -> None:
    """Version 2: conversations, ticket lifecycle, mail kinds, Message-ID dedupe and bounce links."""
    import time

    from playhouse.migrate import SchemaMigrator, migrate

    from triage_tui.store import conversations
    from triage_tui.store.changes import install_triggers
    from triage_tui.store.models import ConversationRow

    migrator = SchemaMigrator.from_database(db)

    def run(sql: str) -> None:
        db.execute_sql(sql if db.param == "?" else sql.replace("%", "%%"))

    # Plain ADD COLUMN on both engines: a SQLite table rebuild would drop `messages` and, with foreign
    # keys on, cascade-delete every body, suggestion and lease that points at it.
    double = "REAL" if db.param == "?" else "DOUBLE PRECISION"
    for table, column, ddl in (("messages", "kind", "VARCHAR(255) NOT NULL DEFAULT 'customer'"),
                               ("messages", "rfc_message_id", "VARCHAR(255)"),
                               ("messages", "conversation_id", "INTEGER"),
                               ("messages", "bounce_of", "VARCHAR(255) NOT NULL DEFAULT ''"),
                               ("tickets", "updated_at", double)):
        run(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {ddl}')
    # The one kind of each stored message, by the documented precedence of its v1 flags.
    run("""UPDATE "messages" SET "kind" = CASE
        WHEN "flags" LIKE '%"own_outbound"%' THEN 'own_outbound'
        WHEN "flags" LIKE '%"bounce"%' THEN 'bounce'
        WHEN "flags" LIKE '%"auto_reply"%' THEN 'auto_reply'
        WHEN "flags" LIKE '%"loop_suspected"%' THEN 'loop_suspected'
        WHEN "flags" LIKE '%"mailing_list"%' THEN 'mailing_list'
        WHEN "flags" LIKE '%"quarantined"%' OR "state" = 'quarantined' THEN 'quarantined'
        ELSE 'customer' END""")
    # The first stored copy of each Message-ID keeps it (a later copy would now be absorbed).
    run("""UPDATE "messages" SET "rfc_message_id" = (SELECT b."internet_message_id"
        FROM "message_bodies" b WHERE b."message_id" = "messages"."id")
        WHERE "id" IN (SELECT ranked.mid FROM (SELECT m."id" AS mid, ROW_NUMBER() OVER (
            PARTITION BY m."grant_id", b."internet_message_id" ORDER BY m."id") AS n
            FROM "messages" m JOIN "message_bodies" b ON b."message_id" = m."id"
            WHERE b."internet_message_id" LIKE '<%@%>' AND LENGTH(b."internet_message_id") <= 255) ranked
            WHERE ranked.n = 1)""")
    run('UPDATE "tickets" SET "updated_at" = "created_at"')
    _mail_state_and_delivery(db)  # the rebuild below runs today's derive, which reads messages.hidden_in
    migrate(
        migrator.add_index("messages", ("grant_id", "rfc_message_id"), True),
        migrator.add_index("messages", ("conversation_id", "kind", "received_at"), False),
    )
    db.create_tables([ConversationRow])
    conversations.rebuild(time.time())
    install_triggers(db, ("conversations",))


def _tracker_tables(db: Database) -> None:
    from triage_tui.store.changes import install_triggers
    from triage_tui.store.models import TrackerLinkRow, TrackerWriteRow

    db.create_tables([TrackerWriteRow, TrackerLinkRow], safe=True)
    install_triggers(db, ("tracker_writes", "tracker_links"))


def _newest_per_grant_index(db: Database) -> None:
    from playhouse.migrate import SchemaMigrator, migrate

    migrate(SchemaMigrator.from_database(db).add_index("messages", ("grant_id", "received_at"), False))


def _mail_state_and_delivery(db: Database) -> None:
    """Version 5: message flags and Junk/Trash from message.updated, delivery status of our sends."""
    double = "REAL" if db.param == "?" else "DOUBLE PRECISION"
    boolean = "INTEGER" if db.param == "?" else "BOOLEAN"
    true, false = ("1", "0") if db.param == "?" else ("TRUE", "FALSE")
    # Plain ADD COLUMN (see _conversations: a SQLite rebuild of `messages` would cascade-delete).
    for table, column, ddl in (("messages", "unread", f"{boolean} NOT NULL DEFAULT {true}"),
                               ("messages", "starred", f"{boolean} NOT NULL DEFAULT {false}"),
                               ("messages", "hidden_in", "VARCHAR(255) NOT NULL DEFAULT ''"),
                               ("messages", "mail_version", f"{double} NOT NULL DEFAULT 0"),
                               ("outbox", "delivery_status", "VARCHAR(255) NOT NULL DEFAULT ''"),
                               ("outbox", "delivery_detail", "TEXT NOT NULL DEFAULT ''"),
                               ("outbox", "delivery_at", double)):
        if column not in {c.name for c in db.get_columns(table)}:  # version 2 may have added it
            db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {ddl}')


def _provisional_suggestions(db: Database) -> None:
    """Version 6: a suggestion made at ingest by the chain's quick members, upgraded later."""
    from playhouse.migrate import SchemaMigrator, migrate

    boolean, false = ("INTEGER", "0") if db.param == "?" else ("BOOLEAN", "FALSE")
    db.execute_sql(f'ALTER TABLE "suggestions" ADD COLUMN "provisional" {boolean} NOT NULL DEFAULT {false}')
    migrate(SchemaMigrator.from_database(db).add_index("suggestions", ("provisional",), False))


MIGRATIONS: list[Migration] = [
    Migration("initial schema", _initial),
    Migration("conversations and the ticket lifecycle", _conversations),
    Migration("tracker writes and links", _tracker_tables),
    Migration("index messages by grant and received_at (ingest lag)", _newest_per_grant_index),
    Migration("message flags, Junk/Trash and delivery status", _mail_state_and_delivery),
    Migration("provisional suggestions (upgraded after ingest)", _provisional_suggestions),
]


def latest_version() -> int:
    """The version a store has once every migration of this release is applied."""
    return len(MIGRATIONS)


def pending(current: int) -> list[tuple[int, Migration]]:
    """The migrations a store at `current` still needs, with the version each one reaches."""
    return [(index + 1, step) for index, step in enumerate(MIGRATIONS) if index + 1 > current]
