"""The summarise task: claim the job, call the provider once, write the outcome.

Delivery is at least once (acks_late, reject_on_worker_lost), so the task is idempotent by
construction: the claim (summaries/jobs.py) turns a duplicate into a no-op. A transient
provider error puts the job back to ``queued`` and retries with a bounded backoff; the
attempt count on the row, not Celery's retry counter, bounds it.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from shared_resource.contract import SUMMARISE_TASK, ContractError, SummariseRequest
from shared_resource.models import CallOutcome

from . import jobs
from .providers import PermanentProviderError, TransientProviderError, get_provider

logger = logging.getLogger(__name__)


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Delay before retrying after ``attempt``: doubling from DUET_RETRY_BACKOFF, at least
    what the server asked for, at most DUET_RETRY_BACKOFF_MAX."""
    delay = settings.DUET_RETRY_BACKOFF * 2 ** (attempt - 1)
    return min(settings.DUET_RETRY_BACKOFF_MAX, max(delay, retry_after or 0.0))


@shared_task(
    bind=True,
    name=SUMMARISE_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    # A database that is down or restarting: try again with backoff, for about a quarter of
    # an hour; past that the job's lease runs out and the sweeper takes over. Provider
    # retries are bounded by the job's attempts instead.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=20,
)
def summarise(self, job_id: object) -> str:
    """Summarise the job's document; return what happened, for the worker log."""
    try:
        request = SummariseRequest.from_kwargs({"job_id": job_id})
    except ContractError as exc:
        logger.error("message %s rejected: %s", self.request.id, exc)
        return "rejected"
    claim = jobs.claim(
        request.job_id,
        lease_seconds=settings.DUET_LEASE_SECONDS,
        max_attempts=settings.DUET_MAX_ATTEMPTS,
    )
    if claim is None:
        return "skipped"
    try:
        return attempt(self, claim)
    except (OperationalError, InterfaceError, Retry):
        raise  # retried above, or by the sweeper once the lease runs out
    except Exception as exc:
        # Anything else is a bug or bad data (a NUL in a summary, say): fail the job
        # readably now, rather than leave it running until the sweeper calls the provider
        # again, and again.
        logger.exception("job %s attempt %d crashed", claim.job_id, claim.attempt)
        jobs.fail(claim, "", f"internal error in the worker: {type(exc).__name__}")
        return "failed"


def attempt(task: Task, claim: jobs.Claim) -> str:
    """Call the provider once for a claimed job and record the outcome."""
    provider = get_provider()
    call = jobs.start_call(claim, provider.name, getattr(provider, "model", ""))
    try:
        summary = provider.summarise(title=claim.title, text=claim.text)
    except (TransientProviderError, SoftTimeLimitExceeded) as exc:
        error = str(exc) or "the attempt hit its soft time limit"
        jobs.end_call(call, CallOutcome.TRANSIENT, error)
        if claim.attempt >= settings.DUET_MAX_ATTEMPTS:
            jobs.fail(claim, provider.name, f"gave up after {claim.attempt} attempts: {error}")
            return "failed"
        delay = backoff_seconds(claim.attempt, getattr(exc, "retry_after", None))
        if jobs.release(claim, error, delay, settings.DUET_LEASE_SECONDS):
            raise task.retry(countdown=delay) from None
        return "lost"
    except PermanentProviderError as exc:
        jobs.end_call(call, CallOutcome.PERMANENT, exc.detail)
        jobs.fail(claim, provider.name, str(exc))
        return "failed"
    except Exception as exc:
        # A provider bug must fail the job readably, not leave it running until its lease
        # runs out and then loop through the sweeper.
        logger.exception("provider %s crashed on job %s", provider.name, claim.job_id)
        error = f"internal error in provider {provider.name}: {type(exc).__name__}"
        jobs.end_call(call, CallOutcome.PERMANENT, error)
        jobs.fail(claim, provider.name, error)
        return "failed"
    return "succeeded" if jobs.succeed(claim, call, summary) else "lost"
