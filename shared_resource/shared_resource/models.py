"""Documents, their summary jobs and the worker's record of provider calls.

Ordering fields (``created``) are set once, never change, are indexed and are not floats,
so the web can cursor-paginate on them.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Document(models.Model):
    """A text a user submitted for summarising."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents"
    )
    title = models.CharField(max_length=200)
    text = models.TextField()
    created = models.DateTimeField(default=timezone.now, editable=False)
    # The client's Idempotency-Key for the POST that created it: a retry with the same key
    # gets this document's job back instead of a second job.
    # NULL, not "", means "no key", so the unique constraint ignores keyless documents.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=255, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["-created"]
        indexes = [
            # Serves the owner-filtered, cursor-paginated list.
            models.Index(fields=["owner", "-created"], name="common_doc_owner_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="common_doc_one_per_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class JobStatus(models.TextChoices):
    """A job moves ``queued → running → succeeded | failed``.

    ``running`` may fall back to ``queued`` when an attempt hits a transient provider error
    and is retried, or when its worker was lost and the lease ran out.
    """

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class SummaryJob(models.Model):
    """The summary of one document, and the outbox row for its task.

    The primary key doubles as the Celery task id, so a task can always be traced to its row
    and re-published by id alone.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="summary_job")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    summary = models.TextField(blank=True)
    provider = models.CharField(max_length=64, blank=True)
    model = models.CharField(max_length=200, blank=True)
    # Counts claims: each claim calls the provider at most once (see ProviderCall).
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # While running: the claim is the worker's until then (past its hard time limit, it is
    # certainly gone). While queued: the retry is not due before then. The sweeper uses it.
    lease_expires = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [
            # Serves the sweeper's scan for stale jobs.
            models.Index(fields=["status", "lease_expires"], name="common_job_status_lease"),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class CallOutcome(models.TextChoices):
    OK = "ok"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


class ProviderCall(models.Model):
    """One call the worker made to a summary provider: its own record of work done.

    Written before the call and completed after it, so a call whose worker died mid-way still
    shows. One per claim: ``(job, attempt)`` is unique, which is what makes "summarised once"
    checkable from the database rather than from logs.
    """

    job = models.ForeignKey(SummaryJob, on_delete=models.CASCADE, related_name="provider_calls")
    attempt = models.PositiveIntegerField()
    provider = models.CharField(max_length=64)
    model = models.CharField(max_length=200, blank=True)
    started = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=CallOutcome.choices, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["started"]
        constraints = [
            models.UniqueConstraint(fields=["job", "attempt"], name="common_call_one_per_attempt"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.attempt} {self.outcome or 'in flight'}"


class MigrationClass(models.Model):
    """The recorded class of a ``common`` migration, written by ``migrate`` from the registry.

    Read by the schema guard of older releases, which cannot know newer migrations
    (see ``shared_resource.compatibility``). The worker role may only read it.
    """

    name = models.CharField(max_length=255, primary_key=True)
    kind = models.CharField(max_length=16)
    why = models.TextField(blank=True)
    recorded = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.kind}"
