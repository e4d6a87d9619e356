"""The schema window on real processes: workers and gunicorn refuse a database they cannot
run against (exit 78), run ahead of compatible migrations, and a running worker steps aside.
They move the database behind and ahead, so they run on a stack of their own, serving nothing.
"""

import pytest

from dev.system import wait_for

from .conftest import fresh_stack

EXIT_CONFIG = 78  # sysexits.h EX_CONFIG: the schema outside the window or a failed check
NEWER = "0999_from_a_newer_release"
WORKER = ["celery", "--app", "duet_worker", "worker", "--pool", "solo", "--loglevel", "INFO"]
WORKER += ["--without-mingle", "--without-gossip"]
GUNICORN = ["gunicorn", "--config", "python:duet_web.gunicorn_conf", "--bind", "127.0.0.1:0"]
GUNICORN += ["duet_web.wsgi:application"]


@pytest.fixture(scope="module")
def guard_stack():
    with fresh_stack("e2e-guard", serve=False) as running:
        yield running


def worker_process(stack, name, **env):
    return stack.service_process(name, "worker", WORKER, env=env).start()


def exit_and_log(process, timeout=90):
    """The process's exit status (None if it still runs after ``timeout``) and its log."""
    try:
        return process.wait(timeout), process.log.read_text()
    finally:
        process.stop()


@pytest.fixture
def behind(guard_stack):
    guard_stack.manage("migrate", "common", "0001", role="migrator")
    yield
    guard_stack.migrate()


@pytest.fixture
def ahead(guard_stack):
    """Apply a migration no release here ships, with its class recorded (or none)."""

    def apply(kind=None):
        guard_stack.sql(
            "INSERT INTO django_migrations (app, name, applied) "
            f"VALUES ('common', '{NEWER}', now())"
        )
        if kind:
            guard_stack.sql(
                "INSERT INTO common_migrationclass (name, kind, why, recorded) "
                f"VALUES ('{NEWER}', '{kind}', 'a test', now())"
            )

    yield apply
    guard_stack.sql(f"DELETE FROM django_migrations WHERE name = '{NEWER}'")
    guard_stack.sql(f"DELETE FROM common_migrationclass WHERE name = '{NEWER}'")


def test_a_worker_refuses_a_database_that_is_behind(guard_stack, behind):
    code, log = exit_and_log(worker_process(guard_stack, "guard-behind"))
    assert code == EXIT_CONFIG, log
    assert "refusing to start: database schema is behind" in log
    assert "not applied: common.0002_providercall" in log


def test_a_worker_refuses_a_database_ahead_by_an_unclassified_migration(guard_stack, ahead):
    ahead()
    code, log = exit_and_log(worker_process(guard_stack, "guard-ahead"))
    assert code == EXIT_CONFIG, log
    assert f"unknown to this release: common.{NEWER} (breaking)" in log


def test_a_worker_runs_ahead_of_a_compatible_migration_and_says_so(guard_stack, ahead):
    ahead("compatible")
    worker = worker_process(guard_stack, "guard-compatible")
    try:
        wait_for(lambda: b" ready." in worker.log.read_bytes(), "the worker to be ready", 90)
        assert f"common.{NEWER} (compatible)" in worker.log.read_text()
    finally:
        assert worker.stop() == 0


def test_a_running_worker_steps_aside_when_a_breaking_migration_lands(guard_stack, ahead):
    worker = worker_process(guard_stack, "guard-step-aside", DUET_SCHEMA_CHECK_INTERVAL="1")
    wait_for(lambda: b" ready." in worker.log.read_bytes(), "the worker to be ready", 90)
    ahead("breaking")
    code, log = exit_and_log(worker, timeout=60)
    assert code == EXIT_CONFIG, log
    assert (
        f"stepping aside: database schema is ahead; unknown to this release: common.{NEWER}" in log
    )


def test_gunicorn_refuses_a_database_ahead_by_a_breaking_migration(guard_stack, ahead):
    ahead("breaking")
    code, log = exit_and_log(guard_stack.service_process("guard-gunicorn", "web", GUNICORN).start())
    assert code == EXIT_CONFIG, log
    assert "refusing to start: database schema is ahead" in log


def test_a_worker_refuses_timeouts_that_do_not_nest(guard_stack):
    limits = {"DUET_PROVIDER_TIMEOUT": "60", "CELERY_TASK_SOFT_TIME_LIMIT": "30"}
    code, log = exit_and_log(worker_process(guard_stack, "guard-timeouts", **limits))
    assert code == EXIT_CONFIG, log
    assert "summaries.E001" in log
    assert "DUET_PROVIDER_TIMEOUT=60.0 must be less than CELERY_TASK_SOFT_TIME_LIMIT=30" in log


def test_a_worker_refuses_an_unknown_provider(guard_stack):
    code, log = exit_and_log(worker_process(guard_stack, "guard-provider", DUET_PROVIDER="gpt"))
    assert code == EXIT_CONFIG, log
    assert "summaries.E002" in log


def test_a_worker_without_its_database_exits_rather_than_skip_its_check(stack, tmp_path):
    # A worker that cannot check the schema must not consume; and not 78: systemd retries.
    url = tmp_path / "database-url"
    url.write_text("postgres://duet_worker:wrong@127.0.0.1:1/duet")
    code, log = exit_and_log(worker_process(stack, "guard-no-database", DATABASE_URL_FILE=str(url)))
    assert code == 69, log
    assert "cannot reach the database to check its schema" in log
    assert " ready." not in log
