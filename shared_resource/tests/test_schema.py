"""The schema guard against a real database moved behind and ahead of the code."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from shared_resource.schema import (
    SchemaMismatch,
    SchemaReport,
    SchemaState,
    check_schema,
    require_current_schema,
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
    recorder = MigrationRecorder(connection)
    recorder.record_applied("common", "0999_from_a_newer_release")
    try:
        yield "common.0999_from_a_newer_release"
    finally:
        recorder.record_unapplied("common", "0999_from_a_newer_release")


def test_a_migrated_database_is_equal():
    report = require_current_schema()
    assert report.state is SchemaState.EQUAL
    assert report.missing == [] and report.unknown == []


def test_a_database_missing_a_migration_is_behind(migrated_back_to_0001):
    report = check_schema()
    assert report.state is SchemaState.BEHIND
    assert report.missing == ["common.0002_providercall", "common.0003_document_idempotency_key"]
    with pytest.raises(SchemaMismatch, match=re.escape("not applied: common.0002_providercall")):
        require_current_schema()


def test_a_database_with_an_unknown_migration_is_ahead(record_from_the_future):
    report = check_schema()
    assert report.state is SchemaState.AHEAD
    assert report.unknown == [record_from_the_future]
    with pytest.raises(SchemaMismatch, match=re.escape("unknown to this release: common.0999")):
        require_current_schema()


def test_behind_and_ahead_at_once_is_diverged(migrated_back_to_0001, record_from_the_future):
    assert check_schema().state is SchemaState.DIVERGED


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
