"""The models and the migrations shipped with them agree, in this environment's Django."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_match_their_migrations():
    # Exits non-zero (SystemExit) if a model change has no migration.
    call_command("makemigrations", "common", "--check", "--dry-run", verbosity=0)


def test_every_migration_has_a_declared_class():
    from django.db.migrations.loader import MigrationLoader

    from shared_resource.compatibility import MIGRATIONS

    on_disk = {name for label, name in MigrationLoader(None).disk_migrations if label == "common"}
    assert on_disk - set(MIGRATIONS) == set(), "declare each in shared_resource/compatibility.py"
