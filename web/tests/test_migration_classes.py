"""shared_resource's declared migration classes agree with django-migration-linter.

The linter's errors are its "backward incompatible" findings (a dropped or renamed column,
a NOT NULL column without a default, a new unique constraint...); its warnings are about
locks, which the zero-downtime backend handles. A migration declared compatible must have
no error, one declared breaking must have one, unless ``linter_override`` says why not.
"""

import pytest
from django.db.migrations.loader import MigrationLoader
from django_migration_linter import MigrationLinter

from shared_resource.compatibility import MIGRATIONS, Compatibility

pytestmark = pytest.mark.django_db

COMMON = sorted(name for label, name in MigrationLoader(None).disk_migrations if label == "common")


@pytest.fixture(scope="module")
def linter(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        yield MigrationLinter(no_cache=True, no_output=True, analyser_string="postgresql")


def linter_verdict(linter: MigrationLinter, name: str) -> Compatibility:
    linter.reset_counters()
    linter.lint_migration(linter.migration_loader.disk_migrations["common", name])
    return Compatibility.BREAKING if linter.nb_erroneous else Compatibility.COMPATIBLE


@pytest.mark.parametrize("name", COMMON)
def test_the_declared_class_agrees_with_the_linter(linter, name):
    declared = MIGRATIONS[name]
    verdict = linter_verdict(linter, name)
    if declared.linter_override:
        assert verdict is not declared.kind, f"{name}: the override is stale; remove it"
    else:
        assert verdict is declared.kind, (
            f"{name} is declared {declared.kind}, the linter finds it {verdict}: fix the "
            "class in shared_resource/compatibility.py, or give linter_override a reason"
        )
