"""Which ``common`` migrations older releases survive: the registry the schema guard reads.

Every migration of this app is declared here, by name, as **compatible** (code of the
release before it keeps working against the migrated database: a new table, a new nullable
column, a new index) or **breaking** (anything else: a dropped or renamed column or table, a
new NOT NULL column without a database default, a changed type). A release's worker cannot
know how a *newer* migration is classified, so ``migrate`` copies this registry into the
``common_migrationclass`` table (before and after it migrates), and the guard of an older
release reads it there; a migration with no recorded class counts as breaking.

The registry is a module, not an attribute of each migration, so that it outlives the files:
after a squash deletes the squashed files, their entries stay here and are still recorded.
A test holds each entry to django-migration-linter's verdict; where they differ, the entry
carries ``linter_override`` with the reason, and the test fails if the reason goes stale.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from django.apps import AppConfig
from django.db import connections, router

#: The table ``migrate`` records classes in (created by ``0004_migrationclass``). Written
#: with plain SQL and fixed columns, so that every release reads and writes it alike.
TABLE = "common_migrationclass"


class Compatibility(enum.StrEnum):
    COMPATIBLE = "compatible"
    BREAKING = "breaking"


@dataclass(frozen=True)
class Classification:
    """A migration's class, why, and (rarely) why it differs from the linter's verdict."""

    kind: Compatibility
    why: str
    linter_override: str | None = None


def compatible(why: str, linter_override: str | None = None) -> Classification:
    return Classification(Compatibility.COMPATIBLE, why, linter_override)


def breaking(why: str, linter_override: str | None = None) -> Classification:
    return Classification(Compatibility.BREAKING, why, linter_override)


#: Every migration of ``common``, by name. A new migration needs an entry (a test checks).
MIGRATIONS: dict[str, Classification] = {
    "0001_initial": compatible("creates the tables; nothing older exists"),
    "0002_providercall": compatible("a new table, which older code never touches"),
    "0003_document_idempotency_key": compatible(
        "a nullable column and a partial unique index over it",
        linter_override=(
            "the linter flags every new unique constraint; this one only covers rows with an "
            "idempotency key, which older code never writes, so its inserts cannot violate it"
        ),
    ),
    "0004_migrationclass": compatible("a new table, read only by newer guards"),
}


def record_classes(using: str, registry: dict[str, Classification] | None = None) -> int:
    """Upsert the registry into :data:`TABLE`, if it exists yet; return the rows written."""
    registry = MIGRATIONS if registry is None else registry
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [TABLE])
        if not cursor.fetchone()[0]:
            return 0
        for name, entry in registry.items():
            cursor.execute(
                f"INSERT INTO {TABLE} (name, kind, why, recorded) VALUES (%s, %s, %s, now()) "
                "ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, why = EXCLUDED.why, "
                f"recorded = now() WHERE ({TABLE}.kind, {TABLE}.why) "
                "IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.why)",
                [name, str(entry.kind), entry.why],
            )
    return len(registry)


def recorded_classes(names: list[str], using: str) -> dict[str, Compatibility]:
    """The recorded class of each of ``names`` that has one (none if the table is absent)."""
    if not names:
        return {}
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [TABLE])
        if not cursor.fetchone()[0]:
            return {}
        cursor.execute(f"SELECT name, kind FROM {TABLE} WHERE name = ANY(%s)", [names])
        return {
            name: Compatibility(kind)
            for name, kind in cursor.fetchall()
            if kind in Compatibility._value2member_map_
        }


def record_on_migrate(sender: AppConfig, using: str, **kwargs: Any) -> None:
    """``pre_migrate`` and ``post_migrate`` receiver: record the registry.

    Before migrating, so that a compatible migration never looks breaking (unrecorded) to
    running workers while it is being applied; after, for the run that creates the table.
    A process whose router refuses this app's migrations (the worker's) records nothing.
    """
    if connections[using].vendor == "postgresql" and router.allow_migrate(using, sender.label):
        record_classes(using)
