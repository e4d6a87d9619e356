"""The schema guard against a real database moved behind and ahead of the code: the window."""

import re

import pytest
from django.core.management import call_command
from django.core.management.sql import emit_pre_migrate_signal
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from shared_resource.compatibility import MIGRATIONS, breaking, compatible, record_classes
from shared_resource.models import MigrationClass
from shared_resource.schema import (
    SchemaMismatch,
    SchemaReport,
    SchemaState,
    check_schema,
    require_compatible_schema,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def migrated_back_to_0001():
    call_command("migrate", "common", "0001", verbosity=0)
    try:
        yield
    finally:
        call_command("migrate", "common", verbosity=0)


@pytest.fixture
def record_from_the_future():
    """A migration a newer release applied, with no recorded class."""
    recorder = MigrationRecorder(connection)
    recorder.record_applied("common", "0999_from_a_newer_release")
    try:
        yield "common.0999_from_a_newer_release"
    finally:
        recorder.record_unapplied("common", "0999_from_a_newer_release")
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('common_migrationclass') IS NOT NULL")
            if cursor.fetchone()[0]:
                cursor.execute("DELETE FROM common_migrationclass WHERE name LIKE '0999%%'")


def classify_0999(entry):
    record_classes("default", {"0999_from_a_newer_release": entry})


def test_a_migrated_database_is_equal():
    report = require_compatible_schema()
    assert report.state is SchemaState.EQUAL
    assert report.missing == [] and report.unknown == []


def test_a_database_missing_a_migration_is_behind(migrated_back_to_0001):
    report = check_schema()
    assert report.state is SchemaState.BEHIND
    assert report.missing == [
        "common.0002_providercall",
        "common.0003_document_idempotency_key",
        "common.0004_migrationclass",
    ]
    with pytest.raises(SchemaMismatch, match=re.escape("not applied: common.0002_providercall")):
        require_compatible_schema()


def test_a_database_ahead_by_an_unclassified_migration_is_refused(record_from_the_future):
    report = check_schema()
    assert report.state is SchemaState.AHEAD
    assert report.unknown == [record_from_the_future]
    assert report.breaking == [record_from_the_future]
    with pytest.raises(SchemaMismatch, match=re.escape("unknown to this release: common.0999")):
        require_compatible_schema()


def test_a_database_ahead_by_a_compatible_migration_runs(record_from_the_future):
    classify_0999(compatible("a new nullable column"))
    report = require_compatible_schema()
    assert report.state is SchemaState.AHEAD and report.runnable
    assert report.compatible == [record_from_the_future] and report.breaking == []
    assert f"{record_from_the_future} (compatible)" in str(report)


def test_a_database_ahead_by_a_breaking_migration_is_refused(record_from_the_future):
    classify_0999(breaking("drops a column"))
    with pytest.raises(SchemaMismatch, match=re.escape(f"{record_from_the_future} (breaking)")):
        require_compatible_schema()


def test_a_class_recorded_later_changes_the_verdict(record_from_the_future):
    classify_0999(compatible("first thought"))
    assert check_schema().runnable
    classify_0999(breaking("second thought"))
    assert not check_schema().runnable


def test_classes_are_recorded_before_migrating_too():
    """So that a compatible migration is never unrecorded (breaking) while it is applied."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM common_migrationclass")
    emit_pre_migrate_signal(verbosity=0, interactive=False, db="default")
    assert set(MigrationClass.objects.values_list("name", flat=True)) == set(MIGRATIONS)


def test_migrate_records_every_class_in_the_registry():
    call_command("migrate", "common", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, kind FROM common_migrationclass ORDER BY name")
        rows = dict(cursor.fetchall())
    assert rows == {name: str(entry.kind) for name, entry in MIGRATIONS.items()}


def test_behind_and_ahead_at_once_is_diverged(migrated_back_to_0001, record_from_the_future):
    report = check_schema()
    assert report.state is SchemaState.DIVERGED and not report.runnable


def test_other_apps_do_not_count():
    recorder = MigrationRecorder(connection)
    recorder.record_applied("auth", "9999_only_in_the_other_environment")
    try:
        assert check_schema().state is SchemaState.EQUAL
    finally:
        recorder.record_unapplied("auth", "9999_only_in_the_other_environment")


def test_the_report_says_what_to_do():
    text = str(SchemaReport(missing=["common.0002_x"], unknown=["common.0003_y"]))
    assert "diverged" in text
    assert "run the web's migrate first" in text
    assert "deploy the release that ships them" in text
