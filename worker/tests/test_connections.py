"""Statements and sessions per job, counted (machine-independent), and a reused connection
that the server dropped costing a reconnect, not a retry."""

import time

import pytest
from celery import signals
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.test.utils import CaptureQueriesContext

from duet_worker.celery import app
from shared_resource.contract import QUEUE, SUMMARISE_TASK, SummariseRequest
from shared_resource.models import JobStatus
from summaries.tasks import summarise

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_job_that_succeeds_costs_two_statements(make_job):
    connection.close()
    first, second = make_job(), make_job()
    with CaptureQueriesContext(connection) as queries:
        assert summarise(str(first.id)) == "succeeded"
    # A new session prepares the claim and the outcome (shared_resource/prepared.py) ...
    assert [q["sql"].split(None, 1)[0] for q in queries] == ["PREPARE", "EXECUTE"] * 2
    # ... the claim reads the document and records the call; the outcome ends the call too.
    assert "INSERT" in queries[0]["sql"] and "UPDATE" in queries[2]["sql"]
    with CaptureQueriesContext(connection) as queries:
        assert summarise(str(second.id)) == "succeeded"
    assert [q["sql"].split(None, 1)[0] for q in queries] == ["EXECUTE", "EXECUTE"]
    for job in (first, second):
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED and job.summary


@pytest.fixture
def backends(django_db_setup, django_db_blocker):
    """The PostgreSQL backend pid that served each task, in a real (solo) worker."""
    seen: list[int] = []

    def record(**kwargs):
        seen.append(connection.connection.info.backend_pid)

    signals.task_postrun.connect(record, weak=False)
    with (
        django_db_blocker.unblock(),
        start_worker(
            app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10
        ),
    ):
        yield seen
    signals.task_postrun.disconnect(record)


def run_job(make_job):
    job = make_job()
    app.send_task(
        SUMMARISE_TASK,
        kwargs=SummariseRequest(job.id).to_kwargs(),
        task_id=str(job.id),
        queue=QUEUE,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_terminal:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job still {job.status}: {job.error}")


def test_tasks_share_one_session_and_survive_its_loss(make_job, backends):
    for _ in range(4):
        assert run_job(make_job).status == JobStatus.SUCCEEDED
    assert len(backends) == 4 and len(set(backends)) == 1

    # The server ends the worker's session (as a restart does): the next job reconnects
    # before its first query and succeeds on its first attempt, with no retry.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backends[0]])
    job = run_job(make_job)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1)
    assert backends[-1] != backends[0]
