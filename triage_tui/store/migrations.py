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


def _tracker_tables(db: Database) -> None:
    from triage_tui.store.changes import install_triggers
    from triage_tui.store.models import TrackerLinkRow, TrackerWriteRow

    db.create_tables([TrackerWriteRow, TrackerLinkRow], safe=True)
    install_triggers(db)


def _newest_per_grant_index(db: Database) -> None:
    from playhouse.migrate import SchemaMigrator, migrate

    migrate(SchemaMigrator.from_database(db).add_index("messages", ("grant_id", "received_at"), False))


MIGRATIONS: list[Migration] = [
    Migration("initial schema", _initial),
    Migration("tracker writes and links", _tracker_tables),
    Migration("index messages by grant and received_at (ingest lag)", _newest_per_grant_index),
]


def latest_version() -> int:
    """The version a store has once every migration of this release is applied."""
    return len(MIGRATIONS)


def pending(current: int) -> list[tuple[int, Migration]]:
    """The migrations a store at `current` still needs, with the version each one reaches."""
    return [(index + 1, step) for index, step in enumerate(MIGRATIONS) if index + 1 > current]
