"""A job's state transitions, as the worker makes them. Every write is a conditional UPDATE.

``claim`` moves ``queued → running`` (or takes over a running job whose lease ran out) and
counts the attempt. Every later write is fenced on ``(status=running, attempts=<mine>)``, so
a worker that lost its claim (lease expired, job re-claimed) can never overwrite the result
of the one that holds it. A duplicate delivery finds nothing to claim and does nothing.

A job that succeeds costs two statements, so two commits, as a bare claim-then-write worker
would: the claim (one ``WITH … UPDATE … FROM … RETURNING, INSERT … SELECT`` that claims the
job, reads its document and records the provider call it is about to make, in one
transaction) and the outcome (one ``WITH … UPDATE … UPDATE``, atomic without BEGIN/COMMIT).
The ORM cannot return rows from an UPDATE nor chain writes in one statement, so those two
are SQL, built from the models' metadata.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import F, Model, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from shared_resource.connections import reconnecting
from shared_resource.models import CallOutcome, Document, JobStatus, ProviderCall, SummaryJob
from shared_resource.prepared import Statement
from shared_resource.schema import is_schema_error

from .providers import Summary

logger = logging.getLogger(__name__)

#: The length of the model columns (SummaryJob.model, ProviderCall.model).
MODEL_MAX = SummaryJob._meta.get_field("model").max_length


def _columns(model: type[Model]) -> dict[str, str]:
    """Quoted column names by field name (``document`` → ``"document_id"``)."""
    # django-stubs types Field.column as optional; a concrete field always has one.
    return {
        f.name: connection.ops.quote_name(f.column)  # type: ignore[arg-type]
        for f in model._meta.concrete_fields
    }


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


_JOB, _DOCUMENT, _CALL = _table(SummaryJob), _table(Document), _table(ProviderCall)
_J, _D, _C = _columns(SummaryJob), _columns(Document), _columns(ProviderCall)

#: Every column this release's models know, named in the claim though unused: a database
#: that lost one (a breaking migration of a newer release) fails the claim itself, so nothing
#: is claimed and no provider called, as the ORM's read of the whole row would have failed.
#: ``num_nulls`` takes any number of columns of any type and returns one integer.
_EVERY_COLUMN = "num_nulls({})".format(
    ", ".join([*(f"j.{c}" for c in _J.values()), *(f"d.{c}" for c in _D.values())])
)

#: queued → running, or an expired running attempt taken over; returns what the attempt
#: needs. ``statement_timestamp()`` is what Django's ``Now()`` is on PostgreSQL.
_CLAIM = f"""UPDATE {_JOB} AS j
SET {_J["status"]} = %(running)s, {_J["attempts"]} = j.{_J["attempts"]} + 1,
    {_J["started"]} = statement_timestamp(),
    {_J["lease_expires"]} = statement_timestamp() + %(lease)s * interval '1 second'
FROM {_DOCUMENT} AS d
WHERE j.{_J["id"]} = %(job)s AND d.{_D["id"]} = j.{_J["document"]}
  AND j.{_J["attempts"]} < %(max_attempts)s
  AND (j.{_J["status"]} = %(queued)s
       OR (j.{_J["status"]} = %(running)s AND j.{_J["lease_expires"]} < statement_timestamp()))
RETURNING j.{_J["id"]} AS job, j.{_J["attempts"]} AS attempt, d.{_D["title"]} AS title,
  d.{_D["text"]} AS text, {_EVERY_COLUMN} AS known"""

#: The claim alone: for an attempt that cannot reach a provider (see ``claim``).
CLAIM_SQL = f"WITH claimed AS ({_CLAIM}) SELECT attempt, title, text, NULL FROM claimed"

#: The provider call's row, from the claim's: the attempt is the one just counted, every
#: other column is the model's own value (``_call_values``), so the row is unique per attempt
#: and written in the claim's own transaction, before the call is made.
_CALL_FIELDS = [f for f in ProviderCall._meta.concrete_fields if not f.primary_key]
_FROM_CLAIM = {"job": "claimed.job", "attempt": "claimed.attempt"}
CLAIM_AND_CALL_SQL = (
    f"WITH claimed AS ({_CLAIM}), call AS ("
    f"INSERT INTO {_CALL} ({', '.join(_C[f.name] for f in _CALL_FIELDS)})"
    f" SELECT {', '.join(_FROM_CLAIM.get(f.name, f'%({f.name})s') for f in _CALL_FIELDS)}"
    f" FROM claimed RETURNING {_C['id']} AS id)"
    " SELECT claimed.attempt, claimed.title, claimed.text, call.id FROM claimed, call"
)

#: The call marked ok, and the job finished if the claim still holds, in one statement.
END_CALL_SQL = f"""UPDATE {_CALL}
SET {_C["finished"]} = %(call_finished)s, {_C["outcome"]} = %(ok)s, {_C["error"]} = ''
WHERE {_C["id"]} = %(call)s"""
FINISH_SQL = f"""UPDATE {_JOB}
SET {_J["status"]} = %(succeeded)s, {_J["summary"]} = %(summary)s,
    {_J["provider"]} = %(provider)s, {_J["model"]} = %(model)s, {_J["error"]} = '',
    {_J["finished"]} = statement_timestamp(), {_J["lease_expires"]} = NULL
WHERE {_J["id"]} = %(job)s AND {_J["status"]} = %(running)s AND {_J["attempts"]} = %(attempt)s
RETURNING 1"""

#: The job's two statements, prepared once per connection (shared_resource/prepared.py).
CLAIM = Statement(CLAIM_SQL)
CLAIM_AND_CALL = Statement(CLAIM_AND_CALL_SQL)
SUCCEED = Statement(
    f"WITH call AS ({END_CALL_SQL}), job AS ({FINISH_SQL}) SELECT count(*) FROM job"
)


class SchemaChanged(Exception):
    """The database lost a column or table this release's code uses; nothing was claimed."""


@dataclass(frozen=True)
class Claim:
    """A job this worker holds, with what it needs to summarise it."""

    job_id: uuid.UUID
    attempt: int
    title: str
    text: str
    #: The provider call recorded with the claim (``None``: claimed without one).
    call: ProviderCall | None = None

    def _mine(self):
        return SummaryJob.objects.filter(
            id=self.job_id, status=JobStatus.RUNNING, attempts=self.attempt
        )


def claim(
    job_id: uuid.UUID,
    *,
    lease_seconds: float,
    max_attempts: int,
    provider: str | None = None,
    model: str = "",
) -> Claim | None:
    """Claim ``job_id`` for one attempt; ``None`` (logged) if there is nothing to do.

    With a ``provider``, the same statement records the call about to be made to it (the
    claim's ``call``): written before the call, so even a crash mid-call leaves a trace, and
    in the claim's own commit, so a job costs two commits, not three. Without one (the
    provider could not be built), the attempt is claimed alone, to be failed or retried.

    Leases are written and compared in the database's clock (``Now()``), never a host's, so
    skewed clocks between workers and sweepers cannot hand a live attempt to another.
    """
    params: dict[str, object] = {
        "job": job_id,
        "lease": lease_seconds,
        "max_attempts": max_attempts,
        "queued": JobStatus.QUEUED.value,
        "running": JobStatus.RUNNING.value,
    }
    call = None
    if provider is not None:
        # The row is the model's own (its defaults, its get_db_prep_save), bar the attempt.
        call = ProviderCall(job_id=job_id, attempt=0, provider=provider, model=model[:MODEL_MAX])
        params.update(
            (f.name, f.get_db_prep_save(f.pre_save(call, True), connection))
            for f in _CALL_FIELDS
            if f.name not in _FROM_CLAIM
        )
    statement = CLAIM if call is None else CLAIM_AND_CALL
    try:
        # The task's first query, on a connection kept from an earlier task: a server still
        # down raises again and the task retries with backoff.
        claimed = reconnecting(lambda: statement.fetchone(params))
    except DatabaseError as exc:
        if not is_schema_error(exc):
            raise
        # One statement: it failed whole, so the job is untouched (still queued).
        raise SchemaChanged(str(exc).strip()) from exc
    if claimed is not None:
        attempt, title, text, call_id = claimed
        if call is not None:
            call.pk, call.attempt = call_id, attempt
            call._state.adding = False
        return Claim(job_id, attempt, title, text, call)
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


def end_call(call: ProviderCall, outcome: CallOutcome, error: str = "") -> None:
    call.finished = timezone.now()
    call.outcome = outcome
    call.error = error
    call.save(update_fields=["finished", "outcome", "error"])


def succeed(claim: Claim, call: ProviderCall, summary: Summary) -> bool:
    """Store the summary and mark the call ``ok``, in one statement (so one transaction).

    So a call is recorded as ``ok`` exactly when its summary was stored (or its claim had
    been lost): a worker killed between the provider's answer and this write leaves the
    call "in flight" and the job unfinished, and the next attempt is a retry, not a
    duplicate. ``False`` if the claim was lost meanwhile (the summary is discarded).
    """
    finished = timezone.now()
    (stored,) = SUCCEED.fetchone(
        {
            "call": call.pk,
            "call_finished": finished,
            "ok": CallOutcome.OK.value,
            "job": claim.job_id,
            "attempt": claim.attempt,
            "running": JobStatus.RUNNING.value,
            "succeeded": JobStatus.SUCCEEDED.value,
            # Whatever a model returns must fit the row: PostgreSQL refuses NUL in text.
            "summary": summary.text.replace("\x00", ""),
            "provider": call.provider,
            "model": summary.model[:MODEL_MAX],
        }
    )  # type: ignore[misc]  # count(*) always returns its one row
    call.finished, call.outcome, call.error = finished, CallOutcome.OK, ""
    if not stored:
        _lost(claim)
    return bool(stored)


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

    The attempt is given back too, unless a provider call was recorded for it (with the
    claim; its record, unique per attempt, must stay the only one). The job's message goes
    back to the broker with it; the lease lets the sweeper publish the job again should that
    be lost.
    """
    return _give_back(claim._mine(), attempt_spent=claim.call is not None)


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
        _lost(claim)
    return bool(finished)


def _lost(claim: Claim) -> None:
    logger.warning(
        "job %s attempt %d lost its claim before finishing; result discarded",
        claim.job_id,
        claim.attempt,
    )
