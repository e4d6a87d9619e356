"""The sweeper: no job stays ``queued`` or ``running`` forever.

Every job carries ``lease_expires``: the time after which its current holder (the broker
for a queued job, a worker for a running one) is presumed to have lost it. The sweeper
looks only at jobs past that time:

- ``running``: the worker died or lost the database past its hard time limit. The job goes
  back to ``queued`` and is published again, or fails once it has used all its attempts
  (a job that keeps killing its worker must not loop forever).
- ``queued``: the broker was down at commit, or lost the message. It is published again.

Each transition is a conditional UPDATE on the values just read, so several sweepers (one
per web host) never act twice on one job, and re-publishing is safe because the worker's
claim makes a duplicate delivery a no-op.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Now

from shared_resource.models import JobStatus, SummaryJob

from .publish import publish

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    republished: int = 0
    """Queued jobs published again (including those given back by dead workers)."""
    reclaimed: int = 0
    """Running jobs whose lease ran out, given back to the queue."""
    failed: int = 0
    """Running jobs whose lease ran out after their last attempt."""
    unpublished: int = 0
    """Jobs that could not be published (broker down); the next sweep tries again."""


def sweep(now: datetime | Now | None = None, limit: int = 1000) -> SweepResult:
    """Act on up to ``limit`` jobs whose lease ran out before ``now`` (the database's clock,
    the one leases are written in, unless a test passes a time)."""
    now = now or Now()
    stale = timedelta(seconds=settings.DUET_SWEEP_STALE_SECONDS)
    expired = (
        SummaryJob.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        .filter(Q(lease_expires__lt=now) | Q(lease_expires__isnull=True))
        .order_by("lease_expires")
        .values_list("id", "status", "attempts", "lease_expires")[:limit]
    )
    republished = reclaimed = failed = unpublished = 0
    for job_id, job_status, attempts, lease in expired:
        # Matches only if nobody (a worker, another sweeper) touched the job since.
        same = SummaryJob.objects.filter(id=job_id, status=job_status, lease_expires=lease)
        if job_status == JobStatus.RUNNING and attempts >= settings.DUET_MAX_ATTEMPTS:
            failed += same.update(
                status=JobStatus.FAILED,
                error=f"gave up after {attempts} attempts: the worker was lost each time",
                finished=now,
                lease_expires=None,
            )
            continue
        if not same.update(status=JobStatus.QUEUED, lease_expires=now + stale):
            continue
        reclaimed += job_status == JobStatus.RUNNING
        if publish(job_id):
            republished += 1
        else:
            # The broker is down: the rest waits for the next sweep rather than each
            # publish waiting out its own retries.
            unpublished += 1
            break
    result = SweepResult(republished, reclaimed, failed, unpublished)
    if result != SweepResult():
        logger.info("sweep: %s", result)
    return result
