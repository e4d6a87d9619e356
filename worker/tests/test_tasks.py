"""The summarise task in a real Celery worker, fed through the real Redis broker by name.

The messages are published the way the web publishes them (``send_task`` with the job id
as task id), so these tests cross the same boundary production does.
"""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from duet_worker.celery import app
from shared_resource.contract import QUEUE, SUMMARISE_TASK, SummariseRequest
from shared_resource.models import CallOutcome, JobStatus, ProviderCall, SummaryJob
from summaries.providers.extractive import summarise_text
from tests.fake_llm import Reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        start_worker(
            app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10
        ) as running,
    ):
        yield running


def publish(job_id, kwargs=None):
    app.send_task(
        SUMMARISE_TASK,
        kwargs=kwargs if kwargs is not None else SummariseRequest(job_id).to_kwargs(),
        task_id=str(job_id),
        queue=QUEUE,
    )


def wait_until_terminal(job, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_terminal:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job still {job.status} after {timeout} s: {job.error}")


def outcomes(job):
    return list(
        ProviderCall.objects.filter(job=job).order_by("attempt").values_list("outcome", flat=True)
    )


def test_a_job_is_summarised_through_the_orm(worker, make_job):
    job = make_job()
    publish(job.id)
    job = wait_until_terminal(job)
    assert job.status == JobStatus.SUCCEEDED
    assert job.summary == summarise_text(job.document.text, 3)
    assert (job.provider, job.attempts, job.error) == ("extractive", 1, "")
    assert job.started <= job.finished
    assert outcomes(job) == [CallOutcome.OK]


def test_a_job_delivered_twice_is_summarised_once(worker, make_job):
    job = make_job()
    publish(job.id)
    publish(job.id)
    wait_until_terminal(job)
    # Give the second delivery time to be consumed, then count provider calls.
    publish_marker = make_job()
    publish(publish_marker.id)
    wait_until_terminal(publish_marker)
    assert outcomes(job) == [CallOutcome.OK]
    job.refresh_from_db()
    assert job.attempts == 1


def test_a_rate_limit_is_retried_and_then_succeeds(worker, make_job, use_openai):
    use_openai.replies = [Reply(status=429, headers={"Retry-After": "0"}), Reply(content="Done.")]
    job = make_job()
    publish(job.id)
    job = wait_until_terminal(job)
    assert (job.status, job.summary, job.attempts) == (JobStatus.SUCCEEDED, "Done.", 2)
    assert (job.provider, job.model, job.error) == ("openai", "fake-model", "")
    assert outcomes(job) == [CallOutcome.TRANSIENT, CallOutcome.OK]


def test_a_permanent_error_fails_at_once_with_the_message(worker, make_job, use_openai):
    use_openai.replies = [Reply(status=400)]
    job = make_job()
    publish(job.id)
    job = wait_until_terminal(job)
    assert job.status == JobStatus.FAILED
    assert job.error == "the provider answered 400: scripted 400"
    assert job.attempts == 1 and len(use_openai.requests) == 1


def test_a_provider_that_always_times_out_fails_after_bounded_attempts(
    worker, make_job, use_openai
):
    use_openai.default = Reply(delay=1.0)  # > the 0.5 s timeout, every time
    job = make_job()
    publish(job.id)
    job = wait_until_terminal(job, timeout=30)
    assert job.status == JobStatus.FAILED
    assert job.attempts == 3
    assert job.error == "gave up after 3 attempts: the provider did not answer within 0.5 s"
    assert outcomes(job) == [CallOutcome.TRANSIENT] * 3


@pytest.mark.parametrize(
    "kwargs", [{"job_id": 123}, {"job_id": "not-a-uuid"}, {"job_id": str(uuid.uuid4())}]
)
def test_poison_messages_are_dropped_without_hurting_healthy_jobs(worker, make_job, kwargs):
    publish(uuid.uuid4(), kwargs=kwargs)
    healthy = make_job()
    publish(healthy.id)
    assert wait_until_terminal(healthy).status == JobStatus.SUCCEEDED


def test_a_crashing_provider_fails_the_job_readably(worker, make_job, monkeypatch):
    from summaries.providers.extractive import ExtractiveProvider

    def crash(self, *, title, text):
        raise KeyError("bug")

    monkeypatch.setattr(ExtractiveProvider, "summarise", crash)
    job = make_job()
    publish(job.id)
    job = wait_until_terminal(job)
    assert job.status == JobStatus.FAILED
    assert job.error == "internal error in provider extractive: KeyError"
    assert outcomes(job) == [CallOutcome.PERMANENT]
    assert SummaryJob.objects.filter(status=JobStatus.RUNNING).count() == 0


def test_a_provider_that_cannot_be_built_fails_the_job_and_records_no_call(make_job, monkeypatch):
    from summaries import tasks

    def broken():
        raise ValueError("bad configuration")

    monkeypatch.setattr(tasks, "get_provider", broken)
    job = make_job()
    assert tasks.summarise(str(job.id)) == "failed"
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert job.error == "internal error in the worker: ValueError"
    assert outcomes(job) == []


def test_a_provider_never_ready_in_time_is_retried_then_fails_without_a_call(make_job, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    from summaries import tasks

    def cold():
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(tasks, "get_provider", cold)
    job = make_job()
    # Eager retries run at once: every attempt is spent on the cold provider, none calls it.
    tasks.summarise.apply(args=[str(job.id)])
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.FAILED, 3)
    assert job.error == "gave up after 3 attempts: the provider was not ready in time"
    assert outcomes(job) == []
