"""The worker never migrates: its router refuses every migration.

This is one layer of three. Django skips refused operations silently, so the real barriers
are that the worker has no manage.py and its database role cannot run DDL.
"""

from typing import Any


class NoMigrations:
    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return False
