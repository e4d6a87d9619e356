"""Gunicorn defaults for duet (``gunicorn -c python:duet_web.gunicorn_conf``).

Gunicorn itself still reads ``GUNICORN_CMD_ARGS`` and ``WEB_CONCURRENCY``; these are only the
defaults that differ from gunicorn's own.
"""

import os

bind = os.environ.get("DUET_WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# A slow client or a stuck request must not hold a sync worker for long.
timeout = int(os.environ.get("DUET_WEB_TIMEOUT", "30"))
graceful_timeout = 20
accesslog = "-"
# Leaves out the query string and headers, so nothing secret reaches the access log.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# Below the 8 KiB default, well above any header duet expects.
limit_request_field_size = 8190


def on_starting(server: object) -> None:
    """Refuse to serve (exit 78) a database outside this release's schema window."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "duet_web.settings")
    import django

    django.setup()
    from duet_web.guard import check_at_start

    check_at_start()
