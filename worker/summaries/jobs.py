"""A job's state transitions, as the worker makes them. Every write is a conditional UPDATE.

``claim`` moves ``queued → running`` (or takes over a running job whose lease ran out) and
counts the attempt. Every later write is fenced on ``(status=running, attempts=<mine>)``, so
a worker that lost its claim (lease expired, job re-claimed) can never overwrite the result
of the one that holds it. A duplicate delivery finds nothing to claim and does nothing.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from shared_resource.models import CallOutcome, JobStatus, ProviderCall, SummaryJob
from shared_resource.schema import is_schema_error

from .providers import Summary

logger = logging.getLogger(__name__)

#: The length of the model columns (SummaryJob.model, ProviderCall.model).
MODEL_MAX = SummaryJob._meta.get_field("model").max_length


class SchemaChanged(Exception):
    """The database lost a column or table this release's code uses; the job was given back."""


@dataclass(frozen=True)
class Claim:
    """A job this worker holds, with what it needs to summarise it."""

    job_id: uuid.UUID
    attempt: int
    title: str
    text: str

    def _mine(self):
        return SummaryJob.objects.filter(
            id=self.job_id, status=JobStatus.RUNNING, attempts=self.attempt
        )


def claim(job_id: uuid.UUID, *, lease_seconds: float, max_attempts: int) -> Claim | None:
    """Claim ``job_id`` for one attempt; ``None`` (logged) if there is nothing to do.

    Leases are written and compared in the database's clock (``Now()``), never a host's, so
    skewed clocks between workers and sweepers cannot hand a live attempt to another.
    """
    expired = Q(status=JobStatus.RUNNING, lease_expires__lt=Now())
    claimed = SummaryJob.objects.filter(
        Q(status=JobStatus.QUEUED) | expired, id=job_id, attempts__lt=max_attempts
    ).update(
        status=JobStatus.RUNNING,
        attempts=F("attempts") + 1,
        started=Now(),
        lease_expires=Now() + timedelta(seconds=lease_seconds),
    )
    if claimed:
        try:
            job = SummaryJob.objects.select_related("document").get(id=job_id)
        except DatabaseError as exc:
            if not is_schema_error(exc):
                raise
            # Our claim holds (its lease is fresh), so no fence beyond "running" is needed.
            mine = SummaryJob.objects.filter(id=job_id, status=JobStatus.RUNNING)
            _give_back(mine, attempt_spent=False)
            raise SchemaChanged(str(exc).strip()) from exc
        return Claim(job.id, job.attempts, job.document.title, job.document.text)
    job = SummaryJob.objects.filter(id=job_id).only("status", "attempts").first()
    if job is None:
        logger.error("job %s does not exist; message dropped", job_id)
    elif job.is_terminal:
        logger.info("job %s is already %s; duplicate delivery ignored", job_id, job.status)
    elif job.status == JobStatus.QUEUED and job.attempts >= max_attempts:
        # A queued job with no attempt left (DUET_MAX_ATTEMPTS lowered under it): fail it
        # rather than let the sweeper publish it forever. A *running* one is on its last
        # attempt, and this delivery is merely a duplicate: leave it be.
        SummaryJob.objects.filter(id=job_id, status=JobStatus.QUEUED, attempts=job.attempts).update(
            status=JobStatus.FAILED,
            error=f"gave up: all {max_attempts} attempts used",
            finished=Now(),
            lease_expires=None,
        )
        logger.warning("job %s has used all %d attempts; failed", job_id, max_attempts)
    else:
        logger.info("job %s is running elsewhere; duplicate delivery ignored", job_id)
    return None


def start_call(claim: Claim, provider: str, model: str) -> ProviderCall:
    """Record the provider call before making it, so even a crash mid-call leaves a trace."""
    return ProviderCall.objects.create(
        job_id=claim.job_id, attempt=claim.attempt, provider=provider, model=model[:MODEL_MAX]
    )


def end_call(call: ProviderCall, outcome: CallOutcome, error: str = "") -> None:
    call.finished = timezone.now()
    call.outcome = outcome
    call.error = error
    call.save(update_fields=["finished", "outcome", "error"])


def succeed(claim: Claim, call: ProviderCall, summary: Summary) -> bool:
    """Store the summary and mark the call ``ok``, in one transaction.

    So a call is recorded as ``ok`` exactly when its summary was stored (or its claim had
    been lost): a worker killed between the provider's answer and this write leaves the
    call "in flight" and the job unfinished, and the next attempt is a retry, not a
    duplicate. ``False`` if the claim was lost meanwhile (the summary is discarded).
    """
    with transaction.atomic():
        end_call(call, CallOutcome.OK)
        return _finish(
            claim,
            status=JobStatus.SUCCEEDED,
            # Whatever a model returns must fit the row: PostgreSQL refuses NUL in text.
            summary=summary.text.replace("\x00", ""),
            provider=call.provider,
            model=summary.model[:MODEL_MAX],
            error="",
        )


def fail(claim: Claim, provider: str, error: str) -> bool:
    """Fail the job with a readable error; ``False`` if the claim was lost meanwhile."""
    return _finish(claim, status=JobStatus.FAILED, provider=provider, error=error)


def release(claim: Claim, error: str, retry_in: float, lease_seconds: float) -> bool:
    """Put the job back to ``queued`` until its retry is due.

    The lease covers the countdown plus one run, after which the sweeper publishes the job
    again should the retry message be lost.
    """
    released = claim._mine().update(
        status=JobStatus.QUEUED,
        error=f"attempt {claim.attempt} failed: {error}; retrying in {retry_in:.0f} s",
        lease_expires=Now() + timedelta(seconds=retry_in + lease_seconds),
    )
    return bool(released)


def unclaim(claim: Claim) -> bool:
    """Give a job back to ``queued`` after a schema error: nothing failed, nothing is lost.

    The attempt is given back too, unless the provider was already called for it (its
    record, unique per attempt, must stay the only one). The job's message goes back to the
    broker with it; the lease lets the sweeper publish the job again should that be lost.
    """
    try:
        called = ProviderCall.objects.filter(job_id=claim.job_id, attempt=claim.attempt).exists()
    except DatabaseError:
        called = True
    return _give_back(claim._mine(), attempt_spent=called)


def _give_back(mine: QuerySet[SummaryJob], *, attempt_spent: bool) -> bool:
    released = mine.update(
        status=JobStatus.QUEUED,
        attempts=F("attempts") - (0 if attempt_spent else 1),
        lease_expires=Now() + timedelta(seconds=settings.DUET_LEASE_SECONDS),
    )
    return bool(released)


def _finish(claim: Claim, **values: object) -> bool:
    finished = claim._mine().update(finished=Now(), lease_expires=None, **values)
    if not finished:
        logger.warning(
            "job %s attempt %d lost its claim before finishing; result discarded",
            claim.job_id,
            claim.attempt,
        )
    return bool(finished)
