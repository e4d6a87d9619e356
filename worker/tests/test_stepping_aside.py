"""A worker whose schema moved steps aside: jobs go back to the queue, nothing fails."""

import pytest
from celery.worker import state
from django.db import connection

from duet_worker.stepping_aside import EXIT_CONFIG, SchemaWatch
from shared_resource.compatibility import breaking, compatible, record_classes
from shared_resource.models import JobStatus, ProviderCall, SummaryJob
from summaries import jobs
from summaries.tasks import summarise

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def not_stopping():
    state.should_stop = None
    yield
    state.should_stop = None


@pytest.fixture
def drop_a_column():
    """What a breaking migration does to this release: a column its model reads is gone."""
    dropped = []

    def drop():
        with connection.cursor() as cursor:
            cursor.execute('ALTER TABLE common_summaryjob RENAME COLUMN "model" TO "model_gone"')
        dropped.append(True)

    yield drop
    if dropped:
        with connection.cursor() as cursor:
            cursor.execute('ALTER TABLE common_summaryjob RENAME COLUMN "model_gone" TO "model"')


@pytest.fixture
def applied_by_a_newer_release():
    def apply(entry):
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO django_migrations (app, name, applied) "
                "VALUES ('common', '0999_newer', now())"
            )
        record_classes("default", {"0999_newer": entry})

    yield apply
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE name = '0999_newer'")
        cursor.execute("DELETE FROM common_migrationclass WHERE name = '0999_newer'")


def status_and_attempts(job_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, attempts FROM common_summaryjob WHERE id = %s", [job_id])
        return cursor.fetchone()


def test_a_claim_that_meets_a_missing_column_gives_the_job_back(make_job, drop_a_column):
    job = make_job()
    drop_a_column()
    with pytest.raises(jobs.SchemaChanged, match="model"):
        jobs.claim(job.id, lease_seconds=60, max_attempts=3, provider="extractive")
    assert status_and_attempts(job.id) == (JobStatus.QUEUED, 0)


def test_the_task_requeues_its_message_and_steps_aside(make_job, drop_a_column, caplog):
    job = make_job()
    drop_a_column()
    result = summarise.apply(args=[str(job.id)])
    assert result.state == "REJECTED"
    assert result.result.requeue
    assert state.should_stop == EXIT_CONFIG
    assert status_and_attempts(job.id) == (JobStatus.QUEUED, 0)
    assert not ProviderCall.objects.filter(job_id=job.id).exists()
    assert "stepping aside" in caplog.text


def test_a_claim_that_meets_a_missing_call_column_records_nothing(make_job):
    job = make_job()
    with connection.cursor() as cursor:
        cursor.execute('ALTER TABLE common_providercall RENAME COLUMN "error" TO "error_gone"')
    try:
        with pytest.raises(jobs.SchemaChanged, match="error"):
            jobs.claim(job.id, lease_seconds=60, max_attempts=3, provider="extractive")
    finally:
        with connection.cursor() as cursor:
            cursor.execute('ALTER TABLE common_providercall RENAME COLUMN "error_gone" TO "error"')
    assert status_and_attempts(job.id) == (JobStatus.QUEUED, 0)
    assert not ProviderCall.objects.filter(job_id=job.id).exists()


def test_an_attempt_whose_provider_call_was_recorded_stays_counted(make_job):
    job = make_job()
    claim = jobs.claim(job.id, lease_seconds=60, max_attempts=3, provider="extractive")
    assert jobs.unclaim(claim)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 1)
    again = jobs.claim(job.id, lease_seconds=60, max_attempts=3, provider="extractive")
    assert again.attempt == 2


def test_an_attempt_claimed_without_a_call_is_given_back(make_job):
    job = make_job()
    claim = jobs.claim(job.id, lease_seconds=60, max_attempts=3)
    assert jobs.unclaim(claim)
    assert status_and_attempts(job.id) == (JobStatus.QUEUED, 0)


def test_the_timer_check_runs_on_ahead_of_a_compatible_migration(applied_by_a_newer_release):
    applied_by_a_newer_release(compatible("a new nullable column"))
    SchemaWatch(None).check()
    assert state.should_stop is None


def test_the_timer_check_steps_aside_ahead_of_a_breaking_migration(applied_by_a_newer_release):
    applied_by_a_newer_release(breaking("drops a column"))
    SchemaWatch(None).check()
    assert state.should_stop == EXIT_CONFIG
    assert SummaryJob.objects.count() == 0
