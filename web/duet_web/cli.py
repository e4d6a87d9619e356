"""Console entry points: ``duet-web`` (gunicorn) and ``duet-manage`` (manage.py)."""

import os
import sys


def manage() -> None:
    """Run a Django management command with the web's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "duet_web.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


def serve() -> None:
    """Serve the API with gunicorn and duet's defaults; extra arguments go to gunicorn."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "duet_web.settings")
    from gunicorn.app.wsgiapp import run

    sys.argv = [
        "gunicorn",
        "--config",
        "python:duet_web.gunicorn_conf",
        *sys.argv[1:],
        "duet_web.wsgi:application",
    ]
    run()
