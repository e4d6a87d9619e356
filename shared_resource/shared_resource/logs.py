"""One log line shape for both services, and the ids that tie a job's lines together.

``DUET_LOG_FORMAT=plain`` (the default) writes readable lines; ``json`` writes one JSON
object per line with ``time``, ``level``, ``logger``, ``message`` and, when known,
``request_id`` and ``job_id``. The ids live in context variables: the web binds them per
request, the worker per task, and a logging filter copies them onto every record.

Standard library only: the JSON formatter (python-json-logger, in each service's lock) is
named by its dotted path, so this package imports nothing new.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

FORMATS = ("plain", "json")

#: The ids a log line may carry, each in its own context variable.
request_id: ContextVar[str | None] = ContextVar("duet_request_id", default=None)
job_id: ContextVar[str | None] = ContextVar("duet_job_id", default=None)
_VARS = {"request_id": request_id, "job_id": job_id}


@contextlib.contextmanager
def bound(**ids: str | None) -> Iterator[None]:
    """Carry ``request_id`` and/or ``job_id`` on every log line written inside the block."""
    tokens = [(_VARS[name], _VARS[name].set(value)) for name, value in ids.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class ContextIds(logging.Filter):
    """Copies the bound ids onto each record (ids already set on a record win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _VARS.items():
            value = getattr(record, name, None) or var.get()
            if value:
                setattr(record, name, value)
        return True


def logging_config(
    log_format: str, level: str = "INFO", extra_filters: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary: one console handler in ``log_format``."""
    if log_format not in FORMATS:
        raise ValueError(f"DUET_LOG_FORMAT must be 'plain' or 'json', not {log_format!r}")
    filters = {"ids": {"()": ContextIds}, **(extra_filters or {})}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": filters,
        "formatters": formatters(),
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": list(filters),
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }


def formatters() -> dict[str, Any]:
    """The two formatters, for dictConfig (also used for gunicorn's own loggers)."""
    return {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["levelname", "name", "message"],
            "rename_fields": {"levelname": "level", "name": "logger"},
            # ISO 8601 in UTC, first in the object.
            "timestamp": "time",
            # Celery attaches its whole message context as ``data``; the ids say enough.
            "reserved_attrs": [*_RESERVED, "data"],
        },
    }


#: LogRecord attributes that are not extra fields (python-json-logger's own list).
_RESERVED = [
    "args",
    "asctime",
    "created",
    "exc_info",
    "exc_text",
    "filename",
    "funcName",
    "levelname",
    "levelno",
    "lineno",
    "module",
    "msecs",
    "message",
    "msg",
    "name",
    "pathname",
    "process",
    "processName",
    "relativeCreated",
    "stack_info",
    "taskName",
    "thread",
    "threadName",
]
