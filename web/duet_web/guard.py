"""The schema guard for web processes that did not migrate (gunicorn, on any web host).

The rule is the worker's (``shared_resource.schema``): equal runs; ahead only by compatible
migrations runs with a warning; behind, ahead by a breaking migration or diverged refuses.
Refusing means: gunicorn's master exits 78 before it forks a worker (``on_starting``), and
a running process answers 503 on ``/api/health/`` (``"schema": "incompatible"``), so a load
balancer stops sending it requests. ``migrate`` itself is never guarded: it moves the schema.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings

from shared_resource.schema import SchemaMismatch, require_compatible_schema

logger = logging.getLogger("duet_web.schema")

#: sysexits.h EX_CONFIG, as the worker's: the schema outside the window or a failed system check.
EXIT_CONFIG = 78

_lock = threading.Lock()
_verdict: tuple[float, bool] | None = None


def check_at_start() -> None:
    """Exit 78 if this release may not serve the database; warn if it is ahead compatibly."""
    from django.db import connections

    try:
        report = require_compatible_schema()
    except SchemaMismatch as exc:
        logger.critical("refusing to start: %s", exc)
        raise SystemExit(EXIT_CONFIG) from None
    finally:
        connections.close_all()  # nothing shared with the forked gunicorn workers
    (logger.warning if report.unknown else logger.info)("schema check: %s", report)


def schema_ok() -> bool:
    """The guard's verdict, re-checked at most every ``DUET_SCHEMA_CHECK_INTERVAL`` seconds.

    Raises :class:`django.db.DatabaseError` while the database is unreachable.
    """
    global _verdict
    now = time.monotonic()
    with _lock:
        if _verdict is not None and now - _verdict[0] < settings.DUET_SCHEMA_CHECK_INTERVAL:
            return _verdict[1]
    try:
        require_compatible_schema()
        ok = True
    except SchemaMismatch as exc:
        logger.error("schema check: %s", exc)
        ok = False
    with _lock:
        _verdict = (now, ok)
    return ok
