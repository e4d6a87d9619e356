"""Publishing summary tasks, by name, only after the job row is committed.

The job row is the outbox: if the broker is down when the transaction commits, publishing
fails quietly, the job stays ``queued``, and the sweeper publishes it again later. So a
request never fails, and never hangs, because of the broker.
"""

import logging
import uuid
from functools import partial

from django.db import transaction

from duet_web.celery import app as celery_app
from shared_resource import logs
from shared_resource.contract import QUEUE, REQUEST_ID_HEADER, SUMMARISE_TASK, SummariseRequest

logger = logging.getLogger(__name__)


def publish(job_id: uuid.UUID, request_id: str | None = None) -> bool:
    """Send the summarise task for ``job_id`` now; return whether the broker took it.

    The job id is also the task id, so a log line or a broker message leads to its row.
    ``request_id`` (the HTTP request's; none for the sweeper) travels as a message header.
    """
    with logs.bound(job_id=str(job_id), request_id=request_id):
        try:
            celery_app.send_task(
                SUMMARISE_TASK,
                kwargs=SummariseRequest(job_id).to_kwargs(),
                task_id=str(job_id),
                queue=QUEUE,
                retry=True,
                headers={REQUEST_ID_HEADER: request_id} if request_id else None,
            )
        except Exception as exc:
            logger.warning(
                "could not publish job %s (%s); it stays queued for the sweeper",
                job_id,
                type(exc).__name__,
            )
            return False
        logger.info("published job %s", job_id)
    return True


def publish_on_commit(job_id: uuid.UUID) -> None:
    """Publish once the current transaction commits, never before (no worker can then see
    a job id whose row does not exist yet). The request's id is taken now, while known."""
    request_id = logs.request_id.get()
    transaction.on_commit(partial(publish, job_id, request_id), robust=True)
