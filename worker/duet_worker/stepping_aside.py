"""A running worker steps aside when the database moves to a schema it cannot run against.

The schema guard runs at start-up, then again every ``DUET_SCHEMA_CHECK_INTERVAL`` seconds
from the worker's event loop (:class:`SchemaWatch`). When the database is no longer in this
release's window (a breaking migration, or behind after a rollback), the worker stops
consuming, lets the task in hand finish, and exits 78: the same warm shutdown as SIGTERM,
with another exit status. Messages it had not acknowledged go back to the broker for the
new release's workers. A task that meets an undefined column or table between two checks
asks for the same thing at once (:func:`step_aside`), from whichever process runs it.
"""

from __future__ import annotations

import logging
import os
import signal
from typing import Any

from celery import bootsteps
from celery.worker import state

logger = logging.getLogger("duet_worker")

#: sysexits.h EX_CONFIG: the schema outside the window or a failed system check.
EXIT_CONFIG = 78
#: Sent by a pool process to the main process: "step aside". SIGUSR1 is Celery's own.
STEP_ASIDE_SIGNAL = signal.SIGUSR2

#: The worker's main process, recorded at start-up, before the pool forks.
main_pid: int | None = None


def step_aside(reason: str) -> None:
    """Ask the worker to stop consuming, finish the task in hand and exit 78."""
    if main_pid is None or os.getpid() == main_pid:
        _stop(reason)
    else:
        logger.critical("stepping aside: %s", reason)
        os.kill(main_pid, STEP_ASIDE_SIGNAL)


def _stop(reason: str) -> None:
    if state.should_stop in (None, False):
        logger.critical(
            "stepping aside: %s; no new tasks, finishing the one in hand, then exit %d",
            reason,
            EXIT_CONFIG,
        )
    # Celery's warm shutdown (what SIGTERM does), checked by the consumer's loop.
    # Celery exits with this int; celery-types types the flag by its default (None).
    state.should_stop = EXIT_CONFIG  # type: ignore[assignment]


def _on_signal(signum: int, frame: Any) -> None:
    _stop("a task met a schema this release does not know")


def install(pid: int) -> None:
    """Record the main process and let pool processes signal it (call before forking)."""
    global main_pid
    main_pid = pid
    signal.signal(STEP_ASIDE_SIGNAL, _on_signal)


class SchemaWatch(bootsteps.StartStopStep):
    """Runs the schema guard every ``DUET_SCHEMA_CHECK_INTERVAL`` seconds (default 30)."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        from django.conf import settings

        self.interval = float(settings.DUET_SCHEMA_CHECK_INTERVAL)
        self.tref: Any = None
        self.announced: list[str] = []

    def start(self, worker: Any) -> None:
        if self.interval > 0:
            self.tref = worker.timer.call_repeatedly(self.interval, self.check)

    def stop(self, worker: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()

    def check(self) -> None:
        from django.db import DatabaseError, connections

        from shared_resource.schema import SchemaMismatch, require_compatible_schema

        try:
            report = require_compatible_schema()
        except SchemaMismatch as exc:
            step_aside(str(exc))
        except DatabaseError as exc:
            # The database is down or restarting: no verdict; the next check tries again.
            logger.warning("schema check skipped: %s", exc)
        else:
            if report.unknown and report.unknown != self.announced:
                logger.warning("schema check: %s", report)
            self.announced = report.unknown
        finally:
            # The main process keeps no connection, so none leaks into a forked child.
            connections.close_all()
