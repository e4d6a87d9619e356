"""``migrate``, one at a time: Django's migrate under a PostgreSQL advisory lock.

Every web host may run the migrate step of a deploy (NixOS's duet-migrate, a release job);
two at once would race on the same DDL (docs/architecture.md, "Database roles"). The second
waits for the first, then finds nothing left to do.
"""

from typing import Any

from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections

#: An arbitrary, fixed key: "duet" in ASCII, shared by every host migrating this database.
LOCK_KEY = 0x64756574


class Command(MigrateCommand):
    help = MigrateCommand.help + " Holds a PostgreSQL advisory lock while it runs."

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            super().handle(*args, **options)
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        try:
            super().handle(*args, **options)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
