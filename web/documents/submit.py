"""A document and its job, stored in one statement.

The ORM would take four round trips for the pair (BEGIN, two INSERTs, COMMIT); one
``WITH … INSERT … INSERT`` is atomic on its own, in autocommit, and is prepared once per
connection (shared_resource/prepared.py). The rows are built by the models first, so every
default (the job's UUID, the status) is the models' own, and the SQL is written from the
models' metadata, never by hand per column. Both rows are ``created`` at the statement's
time in the database's clock, the clock the leases use too.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from django.db import connection, transaction
from django.db.models import Field, Model
from django.db.models.fields import AutoFieldMixin

from shared_resource.models import Document, SummaryJob
from shared_resource.prepared import Statement

quote = connection.ops.quote_name
#: Filled in by the database: the statement's own timestamp.
NOW = {"created"}


def _fields(model: type[Model], skip: set[str]) -> list[Field]:
    """The fields an INSERT of ``model`` fills from Python, in column order."""
    return [
        f
        for f in model._meta.concrete_fields
        if f.attname not in skip | NOW and not (f.primary_key and isinstance(f, AutoFieldMixin))
    ]


def _insert(model: type[Model], prefix: str, fields: list[Field]) -> tuple[str, str]:
    """``INSERT INTO table (columns…``, left open for more columns, and the values that
    match them: ``%(<prefix><attname>)s`` each, and ``statement_timestamp()`` for ``created``."""
    # django-stubs types Field.column as optional; a concrete field always has one.
    columns = [quote(f.column) for f in fields]  # type: ignore[arg-type]
    values = [f"%({prefix}{f.attname})s" for f in fields]
    columns += [quote(name) for name in NOW]
    values += ["statement_timestamp()"] * len(NOW)
    return f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}", ", ".join(values)


_DOC_FIELDS = _fields(Document, set())
_JOB_FIELDS = _fields(SummaryJob, {"document_id", "lease_expires"})
_DOC_INSERT, _DOC_VALUES = _insert(Document, "d_", _DOC_FIELDS)
_JOB_INSERT, _JOB_VALUES = _insert(SummaryJob, "j_", _JOB_FIELDS)
# Concrete fields, each with a column (see _insert).
_DOC_PK = quote(Document._meta.pk.column)  # type: ignore[arg-type]
_JOB_LEASE = quote(SummaryJob._meta.get_field("lease_expires").column)  # type: ignore[arg-type]
_JOB_DOCUMENT = quote(SummaryJob._meta.get_field("document").column)
CREATE = Statement(
    f"WITH document AS ({_DOC_INSERT}) VALUES ({_DOC_VALUES}) RETURNING {_DOC_PK}) "
    f"{_JOB_INSERT}, {_JOB_DOCUMENT}, {_JOB_LEASE}) SELECT {_JOB_VALUES}, document.{_DOC_PK},"
    " statement_timestamp() + %(lease)s * interval '1 second' FROM document"
    f" RETURNING {_JOB_DOCUMENT}, {_JOB_LEASE}, {quote('created')}"
)


def _values(instance: Model, prefix: str, fields: list[Field]) -> dict[str, Any]:
    """What Django's own INSERT would send for these fields."""
    return {
        f"{prefix}{f.attname}": f.get_db_prep_save(f.pre_save(instance, True), connection)
        for f in fields
    }


def create(document: Document, job: SummaryJob, lease_seconds: float) -> SummaryJob:
    """Insert ``document`` and its ``job`` (lease: ``lease_seconds`` from the database's
    now); fills in the ids, the lease and the creation time. An IntegrityError leaves
    neither row."""
    params = {
        **_values(document, "d_", _DOC_FIELDS),
        **_values(job, "j_", _JOB_FIELDS),
        "lease": lease_seconds,
    }
    # Inside a caller's transaction (tests, a management command), a savepoint keeps that
    # transaction usable after an IntegrityError; in autocommit (a request) none is needed.
    with transaction.atomic() if connection.in_atomic_block else nullcontext():
        document.pk, job.lease_expires, job.created = CREATE.fetchone(params)  # type: ignore[misc]
    document.created = job.created
    document._state.adding = job._state.adding = False
    job.document = document
    return job
