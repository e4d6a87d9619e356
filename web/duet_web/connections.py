"""Kept database connections, checked by the first query that needs them, not a ``SELECT 1``.

Each gunicorn worker keeps its connection across requests (``CONN_MAX_AGE``). Django can
check it before every request's first query (``CONN_HEALTH_CHECKS``), but that check is a
``SELECT 1``: one more round trip on every request, and the largest single cost of a POST
after the token lookup in the profile (README, "Performance"). So the check is off, and the
first query itself is the check: :func:`reconnecting` runs it again, once, on a fresh
connection if the kept one fails with a connection error (a PostgreSQL restart ended it).
Every API request starts with the token lookup (api_tokens), which runs this way, as do the
health check, the metrics scrape and the sweeper. A restart therefore still costs no request,
and a healthy request no extra round trip. A database still down fails the second try too.
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
