"""A worker refuses to start against a database that is behind or ahead of its migrations."""

import pytest

from harness.system import Process

EXIT_SCHEMA_MISMATCH = 78


def start_worker_expecting_refusal(stack, name, **env):
    worker = Process(
        name,
        [
            str(stack.workers[0].argv[0]),
            "--app",
            "duet_worker",
            "worker",
            "--pool",
            "solo",
            "--without-mingle",
            "--without-gossip",
        ],
        log=stack.logs / f"{name}.log",
        env={**stack.service_env("worker"), **env},
        cwd=stack.workers[0].cwd,
    ).start()
    try:
        code = worker.popen.wait(timeout=60)
    finally:
        worker.stop()
    return code, worker.log.read_text()


@pytest.fixture
def behind(stack):
    stack.manage("migrate", "common", "0001", role="migrator")
    try:
        yield
    finally:
        stack.migrate()


@pytest.fixture
def ahead(stack):
    stack.sql(
        "INSERT INTO django_migrations (app, name, applied) "
        "VALUES ('common', '0999_from_a_newer_release', now())"
    )
    try:
        yield
    finally:
        stack.sql("DELETE FROM django_migrations WHERE name = '0999_from_a_newer_release'")


def test_a_worker_refuses_a_database_that_is_behind(stack, behind):
    code, log = start_worker_expecting_refusal(stack, "guard-behind")
    assert code == EXIT_SCHEMA_MISMATCH, log
    assert "refusing to start: database schema is behind" in log
    assert "not applied: common.0002_providercall" in log


def test_a_worker_refuses_a_database_that_is_ahead(stack, ahead):
    code, log = start_worker_expecting_refusal(stack, "guard-ahead")
    assert code == EXIT_SCHEMA_MISMATCH, log
    assert "unknown to this release: common.0999_from_a_newer_release" in log


def test_a_worker_refuses_timeouts_that_do_not_nest(stack):
    code, log = start_worker_expecting_refusal(
        stack, "guard-timeouts", DUET_PROVIDER_TIMEOUT="60", CELERY_TASK_SOFT_TIME_LIMIT="30"
    )
    assert code == EXIT_SCHEMA_MISMATCH, log
    assert "summaries.E001" in log
    assert "DUET_PROVIDER_TIMEOUT=60.0 must be less than CELERY_TASK_SOFT_TIME_LIMIT=30" in log


def test_a_worker_refuses_an_unknown_provider(stack):
    code, log = start_worker_expecting_refusal(stack, "guard-provider", DUET_PROVIDER="gpt")
    assert code == EXIT_SCHEMA_MISMATCH, log
    assert "summaries.E002" in log


def test_a_worker_without_its_database_exits_rather_than_skip_its_check(stack, tmp_path):
    # A worker that cannot check the schema must not consume; and not 78: systemd retries.
    url = tmp_path / "database-url"
    url.write_text("postgres://duet_worker:wrong@127.0.0.1:1/duet")
    code, log = start_worker_expecting_refusal(
        stack, "guard-no-database", DATABASE_URL_FILE=str(url)
    )
    assert code == 69, log
    assert "cannot reach the database to check its schema" in log
    assert " ready." not in log
