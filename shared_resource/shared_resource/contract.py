"""The wire contract between the web and the worker: task names, queue and payloads.

Plain Python on purpose: the web enqueues by name (``send_task``) and never imports worker
code, and this package imports no Celery. Both sides read these constants, so a rename is
one edit that both environments pick up together.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

#: The only task: summarise the document of one job. Named ``duet.<area>.<verb>``.
SUMMARISE_TASK = "duet.summaries.summarise"

#: The queue the web publishes to and the worker consumes. (On SQS, dots become dashes.)
QUEUE = "duet-summaries"

#: A message header (not part of the payload) naming the HTTP request that created the job,
#: so the worker's log lines about it carry the same ``request_id`` as the web's. Optional:
#: a job the sweeper publishes again has no request behind it and carries none.
REQUEST_ID_HEADER = "duet_request_id"

#: How many times a job is claimed before it fails for good. Both sides read it: the worker
#: stops retrying a transient error, the web's sweeper stops reclaiming a lost job.
DEFAULT_MAX_ATTEMPTS = 5


class ContractError(ValueError):
    """A message does not match the contract; retrying it cannot help."""


@dataclass(frozen=True)
class SummariseRequest:
    """Payload of :data:`SUMMARISE_TASK`: the job id, and nothing else.

    Only ids travel through the broker. The worker reads the text through the ORM, so no
    document content sits in Redis or SQS.
    """

    job_id: uuid.UUID

    def to_kwargs(self) -> dict[str, str]:
        """Return the task's keyword arguments, JSON-serialisable."""
        return {"job_id": str(self.job_id)}

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, object]) -> SummariseRequest:
        """Validate received keyword arguments; raise :class:`ContractError` if they are wrong."""
        if set(kwargs) != {"job_id"}:
            raise ContractError(
                f"expected exactly the keyword argument 'job_id', got {sorted(kwargs)!r}"
            )
        job_id = kwargs["job_id"]
        if not isinstance(job_id, str):
            raise ContractError(f"job_id must be a string, got {type(job_id).__name__}")
        try:
            return cls(job_id=uuid.UUID(job_id))
        except ValueError:
            raise ContractError(f"job_id is not a UUID: {job_id[:64]!r}") from None
