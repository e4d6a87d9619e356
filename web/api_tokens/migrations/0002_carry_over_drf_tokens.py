"""Carry DRF authtoken keys over, hashed, then drop their clear-text table.

Releases before this one kept DRF's ``authtoken_token`` (every key in clear, one per user).
Each key becomes an ``ApiToken`` row holding only its SHA-256, named "DRF token (migrated)",
so clients keep working; the old table and its migration records are then removed. Those
keys lack the ``duet_`` marker: rotate them (create_api_token, then revoke_api_token).
A fresh database has no such table and this does nothing.
"""

import hashlib
import secrets

from django.db import migrations

OLD_TABLE = "authtoken_token"


def carry_over(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("api_tokens", "ApiToken")
    quoted = connection.ops.quote_name(OLD_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {quoted}")
        for key, user_id, created in cursor.fetchall():
            ApiToken.objects.create(
                id=secrets.token_hex(6),
                digest=hashlib.sha256(key.encode()).hexdigest(),
                user_id=user_id,
                name="DRF token (migrated)",
                created=created,
            )
        cursor.execute(f"DROP TABLE {quoted}")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'authtoken'")


class Migration(migrations.Migration):
    dependencies = [("api_tokens", "0001_initial")]

    # Nothing to undo: the clear keys are gone on purpose.
    operations = [migrations.RunPython(carry_over, migrations.RunPython.noop, elidable=True)]
