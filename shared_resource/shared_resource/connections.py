"""Kept database connections, checked by the first query that needs them, not a ``SELECT 1``.

Both services keep their connections (``CONN_MAX_AGE``; the worker across tasks, the web's
gunicorn workers across requests). Django's ``CONN_HEALTH_CHECKS`` would check one with a
``SELECT 1`` before every request's or task's first query: one more round trip each time. So
the first query itself is the check: :func:`reconnecting` runs it again, once, on a fresh
connection if the kept one fails with a connection error (a PostgreSQL restart ended it). A
restart therefore costs no request and no job, a healthy one no extra round trip, and a
database still down fails the second try too. Callers: the web's token lookup, health check,
metrics scrape and sweeper; the worker's claim (README, "Performance").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

T = TypeVar("T")


def reconnecting(query: Callable[[], T]) -> T:
    """``query()``, run once more on a new connection if the kept one was found dead.

    Only for reads or idempotent work: a connection error may also end a statement the
    server had started. Inside a transaction nothing is retried (its work is gone).
    """
    try:
        return query()
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        connection.close()
        return query()
