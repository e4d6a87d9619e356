"""A document and its job, stored in one statement.

The ORM would take four round trips for the pair (BEGIN, two INSERTs, COMMIT); one
``WITH … INSERT … INSERT`` is atomic on its own, in autocommit. The rows are built by the
models first, so every default (the job's UUID, the timestamps, the status) is the models'
own, and the SQL is written from the models' metadata, never by hand per column.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.db import connection, transaction
from django.db.models import Field, Model
from django.db.models.fields import AutoFieldMixin

from shared_resource.models import Document, SummaryJob


def _insert(model: type[Model], skip: set[str]) -> tuple[str, list[Field]]:
    """``INSERT INTO table (columns…`` and the fields that fill it, in order."""
    quote = connection.ops.quote_name
    fields = [
        f
        for f in model._meta.concrete_fields
        if f.attname not in skip and not (f.primary_key and isinstance(f, AutoFieldMixin))
    ]
    # django-stubs types Field.column as optional; a concrete field always has one.
    columns = ", ".join(quote(f.column) for f in fields)  # type: ignore[arg-type]
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}", fields


_DOC_INSERT, _DOC_FIELDS = _insert(Document, set())
_JOB_INSERT, _JOB_FIELDS = _insert(SummaryJob, {"document_id", "lease_expires"})
# Concrete fields, each with a column (see _insert).
_DOC_PK = connection.ops.quote_name(Document._meta.pk.column)  # type: ignore[arg-type]
_JOB_LEASE = connection.ops.quote_name(SummaryJob._meta.get_field("lease_expires").column)  # type: ignore[arg-type]
_JOB_DOCUMENT = connection.ops.quote_name(SummaryJob._meta.get_field("document").column)


def _values(instance: Model, fields: list[Field]) -> list[Any]:
    """What Django's own INSERT would send for these fields."""
    return [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]


def create(document: Document, job: SummaryJob, lease_seconds: float) -> SummaryJob:
    """Insert ``document`` and its ``job`` (lease: ``lease_seconds`` from the database's
    now); fills in the ids and the lease. An IntegrityError leaves neither row."""
    doc_params = _values(document, _DOC_FIELDS)
    job_params = _values(job, _JOB_FIELDS)
    sql = (
        f"WITH document AS ({_DOC_INSERT}) VALUES ({', '.join(['%s'] * len(doc_params))})"
        f" RETURNING {_DOC_PK}) "
        f"{_JOB_INSERT}, {_JOB_DOCUMENT}, {_JOB_LEASE}) "
        f"SELECT {', '.join(['%s'] * len(job_params))}, document.{_DOC_PK},"
        " statement_timestamp() + %s * interval '1 second' FROM document"
        f" RETURNING {_JOB_DOCUMENT}, {_JOB_LEASE}"
    )
    # Inside a caller's transaction (tests, a management command), a savepoint keeps that
    # transaction usable after an IntegrityError; in autocommit (a request) none is needed.
    with (
        transaction.atomic() if connection.in_atomic_block else nullcontext(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [*doc_params, *job_params, lease_seconds])
        document.pk, job.lease_expires = cursor.fetchone()
    document._state.adding = job._state.adding = False
    job.document = document
    return job
