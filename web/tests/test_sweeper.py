"""The sweeper re-publishes stale queued jobs and reclaims lost running ones."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from documents.sweeper import SweepResult, sweep
from shared_resource.contract import REQUEST_ID_HEADER
from shared_resource.models import Document, JobStatus, SummaryJob

from .conftest import broker_outage

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def job(status=JobStatus.QUEUED, lease=-1, attempts=0):
    owner, _ = get_user_model().objects.get_or_create(username="ada")
    document = Document.objects.create(owner=owner, title="t", text="x")
    return SummaryJob.objects.create(
        document=document,
        status=status,
        attempts=attempts,
        lease_expires=None if lease is None else NOW + timedelta(seconds=lease),
    )


def test_a_stale_queued_job_is_published_again_once(broker):
    stale = job(lease=-1)
    assert sweep(NOW) == SweepResult(republished=1)
    assert [m["id"] for m in broker.messages()] == [str(stale.id)]
    stale.refresh_from_db()
    assert stale.status == JobStatus.QUEUED
    # Its lease moved on: the next sweep leaves it to the broker.
    assert stale.lease_expires > NOW
    assert sweep(NOW) == SweepResult()
    assert len(broker.messages()) == 1


def test_a_queued_job_without_a_lease_counts_as_stale(broker):
    job(lease=None)
    assert sweep(NOW).republished == 1


def test_fresh_and_finished_jobs_are_left_alone(broker):
    job(lease=+60)
    job(status=JobStatus.RUNNING, lease=+60, attempts=1)
    job(status=JobStatus.SUCCEEDED, lease=None, attempts=1)
    job(status=JobStatus.FAILED, lease=None, attempts=5)
    assert sweep(NOW) == SweepResult()
    assert broker.messages() == []


def test_a_running_job_whose_worker_was_lost_goes_back_to_the_queue(broker):
    lost = job(status=JobStatus.RUNNING, lease=-1, attempts=2)
    assert sweep(NOW) == SweepResult(republished=1, reclaimed=1)
    lost.refresh_from_db()
    assert lost.status == JobStatus.QUEUED
    assert lost.attempts == 2  # the worker's claim counts attempts, not the sweeper
    assert [m["id"] for m in broker.messages()] == [str(lost.id)]


@override_settings(DUET_MAX_ATTEMPTS=3)
def test_a_job_that_keeps_losing_its_worker_fails_after_its_last_attempt(broker):
    poison = job(status=JobStatus.RUNNING, lease=-1, attempts=3)
    assert sweep(NOW) == SweepResult(failed=1)
    poison.refresh_from_db()
    assert poison.status == JobStatus.FAILED
    assert "gave up after 3 attempts" in poison.error
    assert poison.finished is not None
    assert broker.messages() == []


def test_a_broker_outage_leaves_jobs_for_the_next_sweep(broker):
    job(lease=-2)
    job(lease=-1)
    with broker_outage():
        # The first failed publish ends the sweep: no waiting out retries job after job.
        assert sweep(NOW) == SweepResult(unpublished=1)
    later = NOW + timedelta(hours=1)
    assert sweep(later) == SweepResult(republished=2)


@pytest.mark.django_db(transaction=True)
def test_the_command_sweeps_once_and_reports(broker, capsys):
    job(lease=-1)
    call_command("sweep_jobs")
    assert "republished=1" in capsys.readouterr().out


def test_a_republished_job_carries_no_request_id(broker):
    job(lease=-1)
    sweep(NOW)
    [headers] = broker.headers()
    assert REQUEST_ID_HEADER not in headers
