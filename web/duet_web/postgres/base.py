"""The database backend: PostgreSQL, with DDL that cannot stall the workers' writes for long.

django-pg-zero-downtime-migrations runs each schema statement outside a transaction, with
``ZERO_DOWNTIME_MIGRATIONS_LOCK_TIMEOUT`` on those that take an ACCESS EXCLUSIVE lock, and
turns index and unique-constraint creation into ``CREATE INDEX CONCURRENTLY``. A statement
that waits longer than the lock timeout gives up, so it never queues writers behind it for
long; this backend then retries it (``DUET_MIGRATE_LOCK_RETRIES`` times, with a growing
pause) instead of failing the deploy. Each statement runs alone (autocommit), so repeating
one that timed out repeats nothing else. Queries outside ``migrate`` are unchanged.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.db import OperationalError
from django.db.backends.ddl_references import Statement
from django_zero_downtime_migrations.backends.postgres import base, schema

from shared_resource.schema import pgcode

logger = logging.getLogger("duet_web.migrate")

#: PostgreSQL's lock_not_available: the lock timeout expired.
LOCK_NOT_AVAILABLE = "55P03"


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    def execute(self, sql: Any, params: Any = ()) -> None:
        # One statement at a time, so that a retry repeats only the one that timed out.
        if isinstance(sql, schema.MultiStatementSQL):
            for statement in sql:
                self.execute(statement, params)
            return
        if isinstance(sql, Statement) and isinstance(sql.template, schema.MultiStatementSQL):
            for template in sql.template:
                self.execute(Statement(template, **sql.parts), params)
            return
        retries = int(getattr(settings, "DUET_MIGRATE_LOCK_RETRIES", 0))
        pause = 0.5
        for attempt in range(retries + 1):
            try:
                return super().execute(sql, params)
            except OperationalError as exc:
                if (
                    pgcode(exc) != LOCK_NOT_AVAILABLE
                    or attempt == retries
                    or self.collect_sql
                    or self.connection.in_atomic_block
                ):
                    raise
                logger.warning(
                    "migrate: lock timeout on %s; retry %d of %d in %.1f s",
                    str(sql).split("(", 1)[0][:80],
                    attempt + 1,
                    retries,
                    pause,
                )
                # The library sets its timeouts around the statement and left them set.
                with self.connection.cursor() as cursor:
                    cursor.execute("RESET lock_timeout; RESET statement_timeout")
                time.sleep(pause)
                pause = min(pause * 2, 5.0)


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
