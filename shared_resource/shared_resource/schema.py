"""The schema guard: is the database behind, equal to or ahead of the migrations shipped here?

A process that did not migrate (the worker) calls :func:`require_current_schema` at start-up.
The logic follows Django's own ``BaseCommand.check_migrations``: the migration plan towards
this app's leaf nodes lists what is missing, and applied records of this app that have no
file here are unknown, meaning a newer release migrated the database. It only reads
``django_migrations``; it never creates that table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

APP_LABEL = "common"


class SchemaState(enum.StrEnum):
    EQUAL = "equal"
    BEHIND = "behind"
    AHEAD = "ahead"
    DIVERGED = "diverged"


@dataclass(frozen=True)
class SchemaReport:
    """Where the database stands against the migrations on disk."""

    missing: list[str] = field(default_factory=list)
    """Migrations shipped here (or needed by them) that the database has not applied."""
    unknown: list[str] = field(default_factory=list)
    """Migrations of this app the database has applied that are not shipped here."""

    @property
    def state(self) -> SchemaState:
        if self.missing and self.unknown:
            return SchemaState.DIVERGED
        if self.missing:
            return SchemaState.BEHIND
        if self.unknown:
            return SchemaState.AHEAD
        return SchemaState.EQUAL

    def __str__(self) -> str:
        parts = [f"database schema is {self.state}"]
        if self.missing:
            parts.append(
                "not applied: " + ", ".join(self.missing) + " (run the web's migrate first)"
            )
        if self.unknown:
            parts.append(
                "unknown to this release: "
                + ", ".join(self.unknown)
                + " (deploy the release that ships them)"
            )
        return "; ".join(parts)


class SchemaMismatch(RuntimeError):
    """The database does not match this release's migrations."""

    def __init__(self, report: SchemaReport) -> None:
        super().__init__(str(report))
        self.report = report


def check_schema(using: str = DEFAULT_DB_ALIAS, app_label: str = APP_LABEL) -> SchemaReport:
    """Compare the database behind ``using`` with ``app_label``'s migrations on disk."""
    executor = MigrationExecutor(connections[using])
    loader = executor.loader
    targets = [node for node in loader.graph.leaf_nodes() if node[0] == app_label]
    plan = executor.migration_plan(targets)
    missing = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    unknown = sorted(
        f"{label}.{name}"
        for label, name in loader.applied_migrations
        if label == app_label and (label, name) not in loader.disk_migrations
    )
    return SchemaReport(missing=missing, unknown=unknown)


def require_current_schema(using: str = DEFAULT_DB_ALIAS) -> SchemaReport:
    """Return the report if the schema is current, else raise :class:`SchemaMismatch`."""
    report = check_schema(using)
    if report.state is not SchemaState.EQUAL:
        raise SchemaMismatch(report)
    return report
