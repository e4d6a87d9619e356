"""The worker's database role can read and write common rows and nothing more."""

import subprocess

import pytest

from dev.servers import ROLES
from dev.system import REPO
from dev.venvs import venv_dir


def psql_as(stack, role, sql):
    """Run ``sql`` as one of duet's roles; the completed process, failed or not."""
    argv = [*stack.postgres.psql_argv(role, database="duet"), "-At", "-c", sql]
    return subprocess.run(argv, env=stack.postgres.psql_env(role), capture_output=True, text=True)


def test_the_worker_role_may_use_common_rows(stack):
    for table in ("common_summaryjob", "django_migrations", "common_migrationclass"):
        result = psql_as(stack, "worker", f"SELECT count(*) FROM {table}")
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE intruder (id int)",
        "ALTER TABLE common_document ADD COLUMN intruder int",
        "DROP TABLE common_providercall",
        "TRUNCATE common_summaryjob",
        "CREATE INDEX intruder ON common_document (title)",
        "INSERT INTO django_migrations (app, name, applied) VALUES ('common', 'x', now())",
        "DELETE FROM django_migrations",
        # The recorded migration classes decide whether older workers run: migrate's only.
        "UPDATE common_migrationclass SET kind = 'compatible'",
        "INSERT INTO common_migrationclass VALUES ('9999_x', 'compatible', '', now())",
        "SELECT * FROM auth_user",
        "SELECT * FROM api_tokens_apitoken",
        "UPDATE api_tokens_apitoken SET expires = NULL",
    ],
)
def test_the_worker_role_is_denied(stack, sql):
    result = psql_as(stack, "worker", sql)
    assert result.returncode != 0
    assert "permission denied" in result.stderr or "must be owner" in result.stderr


def test_the_worker_role_reaches_common_tables_and_the_migration_records_only(stack):
    """Whatever later migrations add (the API token table among them) stays out of reach."""
    granted = stack.sql(
        "SELECT DISTINCT table_name FROM information_schema.role_table_grants"
        f" WHERE grantee = '{ROLES['worker']}' ORDER BY 1"
    )
    names = [row[0] for row in granted]
    assert "common_summaryjob" in names
    assert [n for n in names if not n.startswith("common_")] == ["django_migrations"]
    tables = [row[0] for row in stack.sql("SELECT tablename FROM pg_tables")]
    assert "api_tokens_apitoken" in tables


def test_the_web_role_cannot_change_the_schema_either(stack):
    result = psql_as(stack, "web", "CREATE TABLE intruder (id int)")
    assert "permission denied" in result.stderr


def test_migrate_with_worker_settings_changes_nothing(stack):
    migrations = "SELECT app, name FROM django_migrations ORDER BY id"
    tables = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    before = stack.sql(migrations), stack.sql(tables)
    code = (
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('migrate', 'common', 'zero', interactive=False)"
    )
    argv = [str(venv_dir("worker") / "bin" / "python"), "-c", code]
    env = {**stack.service_env("worker"), "DJANGO_SETTINGS_MODULE": "duet_worker.settings"}
    result = subprocess.run(argv, env=env, cwd=REPO / "worker", capture_output=True, text=True)
    # The router skips every operation; recording them as unapplied is refused by the role.
    assert result.returncode != 0
    assert "permission denied for table django_migrations" in result.stderr
    assert (stack.sql(migrations), stack.sql(tables)) == before


def test_the_role_script_can_run_again(stack):
    stack.postgres.create_roles()
    assert psql_as(stack, "worker", "SELECT 1").returncode == 0
