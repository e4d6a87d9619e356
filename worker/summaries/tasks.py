"""The summarise task: claim the job, call the provider once, write the outcome.

Delivery is at least once (acks_late, reject_on_worker_lost), so the task is idempotent by
construction: the claim (summaries/jobs.py) turns a duplicate into a no-op. A transient
provider error puts the job back to ``queued`` and retries with a bounded backoff; the
attempt count on the row, not Celery's retry counter, bounds it.

A database error caused by the schema (an undefined column or table: a newer release
migrated under this one) fails nothing: the job goes back to ``queued``, its message back
to the broker, and the worker steps aside for the release that knows the new schema.
"""

from __future__ import annotations

import logging
from typing import NoReturn

from celery import Task, shared_task
from celery.exceptions import Reject, Retry, SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError

from shared_resource.contract import SUMMARISE_TASK, ContractError, SummariseRequest
from shared_resource.models import CallOutcome, ProviderCall
from shared_resource.schema import is_schema_error

from . import jobs
from .providers import (
    PermanentProviderError,
    Provider,
    TransientProviderError,
    get_provider,
)

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
    try:
        provider, unready = get_provider(), None
    except Exception as exc:  # handled below, once the job is claimed
        provider, unready = None, exc
    try:
        claim = jobs.claim(
            request.job_id,
            lease_seconds=settings.DUET_LEASE_SECONDS,
            max_attempts=settings.DUET_MAX_ATTEMPTS,
            # The call is recorded by the claim's own statement, before it is made.
            provider=None if provider is None else provider.name,
            model="" if provider is None else getattr(provider, "model", ""),
        )
    except jobs.SchemaChanged as exc:
        step_aside_with(request.job_id, str(exc))
    if claim is None:
        return "skipped"
    try:
        if provider is None or claim.call is None:  # claimed without a call
            if isinstance(unready, SoftTimeLimitExceeded):
                # A cold process (the SDK's first import, on a loaded host) used up the
                # attempt before any call was made: retry it like a transient error.
                return retry_or_fail(self, claim, "", "the provider was not ready in time")
            raise unready or RuntimeError("no provider")
        return attempt(self, claim, provider, claim.call)
    except (OperationalError, InterfaceError, Retry):
        raise  # retried above, or by the sweeper once the lease runs out
    except DatabaseError as exc:
        if not is_schema_error(exc):
            return fail_crashed(claim, exc)
        jobs.unclaim(claim)
        step_aside_with(claim.job_id, str(exc).strip())
    except Exception as exc:
        return fail_crashed(claim, exc)


def fail_crashed(claim: jobs.Claim, exc: Exception) -> str:
    """Fail the job readably after an error that is neither transient nor the schema's.

    Such an error is a bug or bad data (a NUL in a summary, say): failing now beats leaving
    the job running until the sweeper calls the provider again, and again.
    """
    logger.error("job %s attempt %d crashed", claim.job_id, claim.attempt, exc_info=exc)
    jobs.fail(claim, "", f"internal error in the worker: {type(exc).__name__}")
    return "failed"


def step_aside_with(job_id: object, error: str) -> NoReturn:
    """The job is queued again: requeue its message and make this worker step aside."""
    from duet_worker.stepping_aside import step_aside

    logger.warning("job %s given back: the schema changed under this release (%s)", job_id, error)
    step_aside(f"job {job_id} met a schema this release does not know: {error}")
    raise Reject(error, requeue=True)


def attempt(task: Task, claim: jobs.Claim, provider: Provider, call: ProviderCall) -> str:
    """Make the ``call`` recorded with the claim, once, and record its outcome."""
    try:
        summary = provider.summarise(title=claim.title, text=claim.text)
    except (TransientProviderError, SoftTimeLimitExceeded) as exc:
        error = str(exc) or "the attempt hit its soft time limit"
        jobs.end_call(call, CallOutcome.TRANSIENT, error)
        return retry_or_fail(task, claim, provider.name, error, getattr(exc, "retry_after", None))
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


def retry_or_fail(
    task: Task, claim: jobs.Claim, provider: str, error: str, retry_after: float | None = None
) -> str:
    """After a transient error: back to ``queued`` and retry later, or fail on the last attempt."""
    if claim.attempt >= settings.DUET_MAX_ATTEMPTS:
        jobs.fail(claim, provider, f"gave up after {claim.attempt} attempts: {error}")
        return "failed"
    delay = backoff_seconds(claim.attempt, retry_after)
    if jobs.release(claim, error, delay, settings.DUET_LEASE_SECONDS):
        raise task.retry(countdown=delay)
    return "lost"
