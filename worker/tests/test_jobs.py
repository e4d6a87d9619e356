"""Claims and fenced writes: duplicates do nothing, a lost claim cannot overwrite."""

import uuid
from datetime import timedelta

import pytest
from django.db import DataError, transaction
from django.utils import timezone

from shared_resource.models import JobStatus, ProviderCall, SummaryJob
from shared_resource.prepared import Statement
from summaries import jobs
from summaries.providers import Summary

pytestmark = pytest.mark.django_db


def claim(job_id, lease=60, max_attempts=3, provider="p", model="m"):
    return jobs.claim(
        job_id, lease_seconds=lease, max_attempts=max_attempts, provider=provider, model=model
    )


def test_a_queued_job_is_claimed_once(make_job):
    job = make_job()
    first = claim(job.id)
    assert first is not None and first.attempt == 1
    assert first.text == job.document.text
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.started is not None
    assert claim(job.id) is None  # a duplicate delivery


def test_the_claim_records_the_call_it_is_about_to_make(make_job):
    job = make_job()
    held = claim(job.id)
    call = ProviderCall.objects.get(job_id=job.id)
    assert call.pk == held.call.pk
    assert (call.attempt, call.provider, call.model) == (1, "p", "m")
    assert (call.outcome, call.finished) == ("", None)  # in flight
    assert claim(job.id) is None  # a duplicate records nothing either
    assert ProviderCall.objects.filter(job_id=job.id).count() == 1


def test_a_claim_without_a_provider_records_no_call(make_job):
    job = make_job()
    held = claim(job.id, provider=None)
    assert held.attempt == 1 and held.call is None
    assert not ProviderCall.objects.filter(job_id=job.id).exists()


def succeed(held, text="s"):
    return jobs.succeed(held, held.call, Summary(text, "m"))


def test_finished_jobs_are_never_claimed_again(make_job):
    job = make_job()
    held = claim(job.id)
    assert succeed(held)
    assert claim(job.id) is None
    job.refresh_from_db()
    assert (job.status, job.summary, job.attempts) == (JobStatus.SUCCEEDED, "s", 1)


def test_an_expired_claim_is_taken_over_and_the_old_holder_is_fenced_out(make_job):
    job = make_job()
    stale = claim(job.id, lease=-1)  # its lease ran out at once
    fresh = claim(job.id)
    assert fresh is not None and fresh.attempt == 2
    assert not succeed(stale, "stale result")
    assert succeed(fresh, "fresh result")
    job.refresh_from_db()
    assert job.summary == "fresh result"


def test_release_puts_the_job_back_with_a_readable_error(make_job):
    job = make_job()
    held = claim(job.id)
    assert jobs.release(held, "the provider answered 429: slow down", 4, lease_seconds=60)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert job.error == "attempt 1 failed: the provider answered 429: slow down; retrying in 4 s"
    assert job.lease_expires > timezone.now() + timedelta(seconds=60)
    assert claim(job.id).attempt == 2


def test_an_unknown_job_is_logged_and_skipped(db, caplog):
    missing = uuid.uuid4()
    assert claim(missing) is None
    assert f"job {missing} does not exist" in caplog.text


def test_a_job_out_of_attempts_fails_instead_of_looping(make_job):
    job = make_job()
    SummaryJob.objects.filter(id=job.id).update(attempts=3)
    assert claim(job.id, max_attempts=3) is None
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "all 3 attempts used" in job.error


def test_a_call_is_ok_exactly_when_its_summary_is_stored(make_job, monkeypatch):
    job = make_job()
    held = claim(job.id)
    call = held.call

    # The job's half of the one statement fails: the call's half must not stay written.
    monkeypatch.setattr(
        jobs, "SUCCEED", Statement(jobs.SUCCEED.sql.replace("RETURNING 1", "RETURNING 1 / 0"))
    )
    with pytest.raises(DataError), transaction.atomic():
        jobs.succeed(held, call, Summary("s", "m"))
    call.refresh_from_db()
    assert call.outcome == "" and call.finished is None


def test_a_duplicate_during_the_last_attempt_leaves_it_running(make_job):
    job = make_job()
    SummaryJob.objects.filter(id=job.id).update(attempts=2)
    last = claim(job.id, max_attempts=3)
    assert last.attempt == 3
    assert claim(job.id, max_attempts=3) is None  # a duplicate delivery
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    assert succeed(last)


def test_a_summary_with_a_nul_and_a_long_model_name_is_stored(make_job):
    job = make_job()
    held = claim(job.id, model="m" * 500)
    assert len(held.call.model) == 200
    assert jobs.succeed(held, held.call, Summary("a\x00b", "m" * 500))
    job.refresh_from_db()
    assert job.summary == "ab" and len(job.model) == 200
