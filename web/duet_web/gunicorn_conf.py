"""Gunicorn defaults for duet (``gunicorn -c python:duet_web.gunicorn_conf``).

Gunicorn itself still reads ``GUNICORN_CMD_ARGS`` and ``WEB_CONCURRENCY``; these are only the
defaults that differ from gunicorn's own.
"""

import logging
import os
from typing import Any

import environ

from shared_resource import logs

bind = os.environ.get("DUET_WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# A slow client or a stuck request must not hold a sync worker for long.
timeout = int(os.environ.get("DUET_WEB_TIMEOUT", "30"))
graceful_timeout = 20
accesslog = "-"
# Leaves out the query string and headers, so nothing secret reaches the access log; ends
# with the request id the answer carried.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
# Below the 8 KiB default, well above any header duet expects.
limit_request_field_size = 8190


class AccessRequestId(logging.Filter):
    """Puts the answer's X-Request-ID on gunicorn's access line as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            request_id = record.args.get("{x-request-id}o")
            if request_id and request_id != "-":
                record.request_id = request_id
        return True


def _logconfig(log_format: str) -> dict[str, Any]:
    """Gunicorn's own loggers (start-up, errors, access) in the same format as Django's."""
    config = logs.logging_config(log_format, extra_filters={"access": {"()": AccessRequestId}})
    config["loggers"] = {
        name: {"handlers": ["console"], "level": "INFO", "propagate": False}
        for name in ("gunicorn.error", "gunicorn.access")
    }
    return config


# --- Operability: DUET_LOG_FORMAT=json makes gunicorn's lines JSON too. -----------------------
logconfig_dict = _logconfig(environ.FileAwareEnv().str("DUET_LOG_FORMAT", default="plain"))


def on_starting(server: object) -> None:
    """Refuse to serve (exit 78) a database outside this release's schema window."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "duet_web.settings")
    import django

    django.setup()
    from duet_web.guard import check_at_start

    check_at_start()
