"""Grants the worker's database role exactly this app's tables, whenever migrate runs.

The worker role gets DML on ``common_*`` tables, SELECT only on ``django_migrations`` and on
``common_migrationclass`` (both for the schema guard), and nothing else: no CREATE, no writes
to the records of migrations. PostgreSQL's
default privileges cannot select tables by name, so the grant is made here, by the process
that just created the tables and owns them (the migrator), in the same ``migrate`` run.
Set ``DUET_WORKER_DB_ROLE`` to enable it; the role itself comes from ``sql/roles.sql``.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from .compatibility import TABLE as CLASS_TABLE


def grant_worker_privileges(sender: AppConfig, using: str, **kwargs: Any) -> None:
    """``post_migrate`` receiver: grant the worker role this app's existing tables."""
    role = getattr(settings, "DUET_WORKER_DB_ROLE", None)
    connection = connections[using]
    if not role or connection.vendor != "postgresql":
        return
    existing = set(connection.introspection.table_names())
    tables = sorted(
        model._meta.db_table
        for model in sender.get_models(include_auto_created=True)
        if model._meta.db_table in existing
    )
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tables:
            if table == CLASS_TABLE:
                continue
            cursor.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON {quote(table)} TO {quote(role)}"
            )
        for table in (MigrationRecorder.Migration._meta.db_table, CLASS_TABLE):
            if table in existing:
                cursor.execute(f"GRANT SELECT ON {quote(table)} TO {quote(role)}")
