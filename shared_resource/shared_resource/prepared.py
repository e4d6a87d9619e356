"""Hot statements prepared once per database connection (SQL ``PREPARE``/``EXECUTE``).

PostgreSQL plans every statement it receives; a prepared one is planned once per session
(then re-planned by the server itself when the schema changes). The hot statements (the
web's token lookup and document insert, the worker's claim and outcome) run with the same
text on every request or job, and planning was about a third of the time they take on a
kept connection (README, "Performance"). psycopg2 has no prepared statements of its own,
hence SQL's.

- The name carries a hash of the text, so a name means one text even where several
  releases share server sessions (a pooler).
- If ``EXECUTE`` finds the statement gone (a pooler in transaction mode, ``DISCARD ALL``),
  ``PREPARE`` finds it there already (a pooler's other client), or its plan no longer fits
  (a returned column changed type), the plain statement runs instead, and that connection
  prepares nothing more: a new connection tries again.
- A schema that lost a column fails the re-planning exactly as it fails the plain
  statement, with the same error (``shared_resource.schema.is_schema_error``).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

from .schema import pgcode

#: After these PostgreSQL errors the connection runs plain statements: the prepared
#: statement does not exist (26000) or exists already (42P05, a pooler's other client), or
#: its cached plan must not change (0A000).
GONE = frozenset({"26000", "42P05", "0A000"})

#: By connection (one per thread): the names prepared in its current session, or None when
#: that session runs plain statements.
_sessions: WeakKeyDictionary[BaseDatabaseWrapper, set[str] | None] = WeakKeyDictionary()


def _new_session(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    _sessions[connection] = set()


connection_created.connect(_new_session, dispatch_uid="shared_resource.prepared")


class Statement:
    """One statement with ``%(name)s`` parameters, run prepared where the session allows."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.params: list[str] = []
        positional = re.sub(r"%\((\w+)\)s", self._number, sql).replace("%%", "%")
        self.name = "duet_" + hashlib.sha256(sql.encode()).hexdigest()[:16]
        self.prepare = f"PREPARE {self.name} AS {positional}"
        self.execute = f"EXECUTE {self.name}"
        if self.params:
            self.execute += f" ({', '.join(['%s'] * len(self.params))})"

    def _number(self, match: re.Match[str]) -> str:
        if match[1] not in self.params:
            self.params.append(match[1])
        return f"${self.params.index(match[1]) + 1}"

    def fetchone(self, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """Run the statement on the default connection; its first row, if any."""
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:  # connects, if need be: then the session is new
            prepared = _sessions.setdefault(connection, set())
            if prepared is None:
                cursor.execute(self.sql, params)
                return cursor.fetchone()
            try:
                if self.name not in prepared:
                    cursor.execute(self.prepare)
                    prepared.add(self.name)
                cursor.execute(self.execute, [params[name] for name in self.params])
            except DatabaseError as exc:
                # Inside a transaction the failed statement aborted it: nothing to retry.
                if pgcode(exc) not in GONE or connection.in_atomic_block:
                    raise
                _sessions[connection] = None
                cursor.execute(self.sql, params)
            return cursor.fetchone()
