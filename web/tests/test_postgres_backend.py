"""migrate's DDL gives way to running transactions: a lock timeout, then retries."""

import threading

import psycopg2
import pytest
from django.db import OperationalError, connection, models
from django.test import override_settings

from shared_resource.models import Document

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reader_holding_the_table():
    """Another session inside a transaction that read common_document (ACCESS SHARE)."""
    other = psycopg2.connect(**connection.get_connection_params())
    with other.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM common_document")
    yield other
    other.rollback()
    other.close()


def column_exists(name):
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, "common_document")
    return any(column.name == name for column in columns)


def add_scratch_column():
    field = models.IntegerField(null=True)
    field.set_attributes_from_name("scratch")
    with connection.schema_editor() as editor:
        editor.add_field(Document, field)
    return field


@override_settings(ZERO_DOWNTIME_MIGRATIONS_LOCK_TIMEOUT="100ms", DUET_MIGRATE_LOCK_RETRIES=10)
def test_a_schema_change_retries_until_the_lock_is_free(reader_holding_the_table, caplog):
    threading.Timer(1.0, reader_holding_the_table.rollback).start()
    field = add_scratch_column()
    try:
        assert column_exists("scratch")
        assert "lock timeout on ALTER TABLE" in caplog.text
    finally:
        with connection.schema_editor() as editor:
            editor.remove_field(Document, field)


@override_settings(ZERO_DOWNTIME_MIGRATIONS_LOCK_TIMEOUT="100ms", DUET_MIGRATE_LOCK_RETRIES=1)
def test_a_schema_change_gives_up_after_its_retries(reader_holding_the_table):
    with pytest.raises(OperationalError, match="lock timeout"):
        add_scratch_column()
    assert not column_exists("scratch")
