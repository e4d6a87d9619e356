"""The schema guard: may this release run against the database as it stands?

The logic follows Django's own ``BaseCommand.check_migrations``: the migration plan towards
this app's leaf nodes lists what is missing, and applied records of this app that have no
file here are unknown, meaning a newer release migrated the database. Each unknown migration
is looked up in the classes ``migrate`` recorded (``shared_resource.compatibility``); one
with no recorded class counts as breaking. The window:

- equal: run;
- behind (a migration shipped here is not applied): refuse;
- ahead only by compatible migrations: run, and say which;
- ahead by a breaking migration, or diverged (behind and ahead at once): refuse.

Processes that did not migrate (the worker, gunicorn) call :func:`require_compatible_schema`
at start-up, and the worker again on a timer. It only reads ``django_migrations`` and
``common_migrationclass``; it never creates either.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from .compatibility import Compatibility, recorded_classes

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
    compatible: list[str] = field(default_factory=list)
    """The unknown migrations recorded as compatible; every other unknown one is breaking."""

    @property
    def breaking(self) -> list[str]:
        """Unknown migrations recorded as breaking, or not recorded at all."""
        return [name for name in self.unknown if name not in self.compatible]

    @property
    def runnable(self) -> bool:
        """Equal, or ahead only by migrations older code survives."""
        return self.state is SchemaState.EQUAL or (
            self.state is SchemaState.AHEAD and not self.breaking
        )

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
            named = ", ".join(
                f"{name} ({'compatible' if name in self.compatible else 'breaking'})"
                for name in self.unknown
            )
            advice = (
                "older code survives them; deploy the release that ships them"
                if not self.breaking
                else "deploy the release that ships them"
            )
            parts.append(f"unknown to this release: {named} ({advice})")
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
    classes = recorded_classes([name.split(".", 1)[1] for name in unknown], using)
    compatible = [
        name for name in unknown if classes.get(name.split(".", 1)[1]) is Compatibility.COMPATIBLE
    ]
    return SchemaReport(missing=missing, unknown=unknown, compatible=compatible)


def require_compatible_schema(using: str = DEFAULT_DB_ALIAS) -> SchemaReport:
    """Return the report if this release may run (see the window above), else raise
    :class:`SchemaMismatch`. A report that is not equal names the compatible migrations."""
    report = check_schema(using)
    if not report.runnable:
        raise SchemaMismatch(report)
    return report


#: PostgreSQL's codes for an undefined column and an undefined table.
SCHEMA_ERROR_CODES = frozenset({"42703", "42P01"})


def pgcode(exc: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE behind a Django database error (psycopg2's, as its cause)."""
    cause = exc.__cause__ if isinstance(exc, DatabaseError) else None
    return getattr(cause, "pgcode", None)


def is_schema_error(exc: BaseException) -> bool:
    """Whether a database error means the schema moved under this release's code."""
    return pgcode(exc) in SCHEMA_ERROR_CODES
