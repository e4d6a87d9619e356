"""``migrate`` grants the worker role this app's tables and nothing else."""

import uuid

import pytest
from django.apps import apps
from django.db import connection
from django.test import override_settings

from shared_resource.grants import grant_worker_privileges

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def role():
    name = f"duet_test_worker_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{name}"')
    try:
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{name}"')
            cursor.execute(f'DROP ROLE "{name}"')


def privilege(role, table, kind):
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, kind])
        return cursor.fetchone()[0]


def test_worker_role_gets_dml_on_common_tables_only(role):
    with override_settings(DUET_WORKER_DB_ROLE=role):
        grant_worker_privileges(sender=apps.get_app_config("common"), using="default")
    for table in ("common_document", "common_summaryjob", "common_providercall"):
        for kind in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            assert privilege(role, table, kind), (table, kind)
        assert not privilege(role, table, "TRUNCATE")
    for table in ("django_migrations", "common_migrationclass"):
        assert privilege(role, table, "SELECT"), table
        assert not privilege(role, table, "INSERT"), table
        assert not privilege(role, table, "UPDATE"), table
    assert not privilege(role, "auth_user", "SELECT")


def test_tables_of_other_apps_are_never_granted(role):
    """The web's API token table (app api_tokens) lives outside ``common``: never granted."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE api_tokens_apitoken (id varchar(12) PRIMARY KEY)")
    try:
        with override_settings(DUET_WORKER_DB_ROLE=role):
            grant_worker_privileges(sender=apps.get_app_config("common"), using="default")
        assert privilege(role, "common_document", "SELECT")
        for kind in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            assert not privilege(role, "api_tokens_apitoken", kind)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE api_tokens_apitoken")


def test_nothing_is_granted_without_a_role(role):
    with override_settings(DUET_WORKER_DB_ROLE=None):
        grant_worker_privileges(sender=apps.get_app_config("common"), using="default")
    assert not privilege(role, "common_document", "SELECT")
