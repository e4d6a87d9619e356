"""One database connection per worker process, kept across tasks and checked before each.

Celery's Django fixup (5.7) closes every connection before and after every task unless
``CELERY_DB_REUSE_MAX`` is set, and then closes them every that many tasks, unconditionally
(``conn.close()``, not Django's ``close_if_unusable_or_obsolete``); it never checks one. So
the settings give that job to Django, as Django does around each HTTP request: before and
after every task, :func:`django.db.close_old_connections` drops a connection that saw an
error and no longer answers, one left in a transaction, or one older than ``CONN_MAX_AGE``.
Rather than a ``SELECT 1`` before every task (``CONN_HEALTH_CHECKS``), the claim, a task's
first statement, reconnects once if the server ended the kept connection (summaries/jobs.py,
through shared_resource.connections, as the web's first query does). A PostgreSQL restart
therefore costs the next task a reconnect, not a retry, and a pool process killed by its time
limit is replaced by a fresh one that opens its own (the fixup closes whatever a new child
inherited).
"""

from __future__ import annotations

from typing import Any

from celery import signals
from django.db import close_old_connections, connections


@signals.task_prerun.connect
def check_before_task(sender: Any = None, **kwargs: Any) -> None:
    """Drop a broken or too old connection before the task uses it."""
    if not getattr(sender.request, "is_eager", False):  # eager: the caller's connection
        close_old_connections()


@signals.task_postrun.connect
def check_after_task(sender: Any = None, **kwargs: Any) -> None:
    """Drop a connection the task left broken, rather than keep it idle until the next."""
    if not getattr(sender.request, "is_eager", False):
        close_old_connections()


@signals.worker_process_shutdown.connect
@signals.worker_shutdown.connect
def close_on_exit(**kwargs: Any) -> None:
    """Say goodbye to the server when a process leaves, rather than drop the socket."""
    connections.close_all()
