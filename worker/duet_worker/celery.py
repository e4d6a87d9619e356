"""The worker's Celery app, configured from Django settings under the ``CELERY_`` namespace.

Before the worker consumes anything it runs the system checks and the schema guard: a
misconfiguration, or a database outside this release's window (behind: the web has not
migrated yet; ahead by a breaking migration: a newer release migrated it) makes the worker
exit with status 78 (EX_CONFIG) and a message naming the cause. Ahead only by compatible
migrations, it runs and logs a warning naming them. While running, it re-checks on a timer
and steps aside the same way (duet_worker/stepping_aside.py).
"""

import logging
import os
from pathlib import Path
from typing import Any

from celery import Celery, bootsteps, signals

from . import stepping_aside
from .stepping_aside import EXIT_CONFIG, SchemaWatch

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "duet_worker.settings")

logger = logging.getLogger("duet_worker")

__all__ = ["EXIT_CONFIG", "Heartbeat", "app"]
#: sysexits EX_UNAVAILABLE: not 78, so a restart policy that spares 78 retries it.
EXIT_DATABASE_UNAVAILABLE = 69

# Tasks remember each message's request id for Celery's own log lines (duet_worker/logs.py).
app = Celery("duet_worker", task_cls="duet_worker.logs:IdTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Log ids per job and DUET_LOG_FORMAT for Celery's own lines (signal receivers, on import).
from . import logs as _logs  # noqa: E402, F401


class Heartbeat(bootsteps.StartStopStep):
    """Touches ``DUET_WORKER_HEARTBEAT_FILE`` every few seconds from the worker's event loop.

    Liveness without the broker's remote control: ``celery inspect ping`` does not work on
    SQS and restarts busy workers elsewhere (reference, behaviour 11). A stale file means
    the main loop is stuck; ``duet-worker-health`` (and the image's health check) reads it.
    """

    requires = ("celery.worker.components:Timer",)
    #: Seconds between touches; a file older than three intervals is unhealthy.
    interval = 5.0

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        self.path = os.environ.get("DUET_WORKER_HEARTBEAT_FILE")
        self.tref: Any = None

    def start(self, worker: Any) -> None:
        if self.path:
            self.beat()
            self.tref = worker.timer.call_repeatedly(self.interval, self.beat)

    def stop(self, worker: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
        if self.path:
            Path(self.path).unlink(missing_ok=True)

    def beat(self) -> None:
        # start() schedules beats only when the path is set.
        Path(self.path).touch()  # type: ignore[arg-type]


app.steps["worker"].add(Heartbeat)
app.steps["worker"].add(SchemaWatch)


@signals.worker_init.connect
def refuse_to_start_misconfigured(**kwargs: Any) -> None:
    """Exit 78 before consuming if a system check fails or the schema is outside the window.

    Celery's Django fixup runs the system checks but ignores their result, so the checks
    that guard the worker (timeouts that nest, a known provider) are enforced here.
    """
    import django
    from django.core import checks
    from django.db import DatabaseError, connections

    from shared_resource.schema import SchemaMismatch, require_compatible_schema

    django.setup()
    errors = [message for message in checks.run_checks() if message.is_serious()]
    for error in errors:
        logger.critical("refusing to start: %s", error)
    if errors:
        raise SystemExit(EXIT_CONFIG)
    try:
        report = require_compatible_schema()
    except SchemaMismatch as exc:
        logger.critical("refusing to start: %s", exc)
        raise SystemExit(EXIT_CONFIG) from None
    except DatabaseError as exc:
        # Celery logs and ignores an exception from a signal handler: the worker would then
        # consume without its schema check. Exit instead; the service manager retries.
        logger.critical("refusing to start: cannot reach the database to check its schema: %s", exc)
        raise SystemExit(EXIT_DATABASE_UNAVAILABLE) from None
    finally:
        # Never hand an open connection to forked pool processes.
        connections.close_all()
    (logger.warning if report.unknown else logger.info)("schema check: %s", report)
    stepping_aside.install(os.getpid())
    from summaries.providers import preload

    preload()


# One database connection per pool process, checked before each task (signal receivers).
from . import connections as _connections  # noqa: E402, F401
