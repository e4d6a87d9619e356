"""Console entry points: ``duet-web`` (gunicorn), ``duet-manage`` (manage.py) and
``duet-web-health`` (the container health check)."""

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


def health() -> None:
    """Exit 0 if this container's web answers /api/health/ with 200 (a container health
    check with no curl in the image); it asks the address in DUET_WEB_BIND."""
    import urllib.error
    import urllib.request

    host, _, port = os.environ.get("DUET_WEB_BIND", "127.0.0.1:8000").rpartition(":")
    host = "127.0.0.1" if host in ("", "0.0.0.0", "[::]") else host
    url = f"http://{host}:{port}/api/health/"
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            print(f"ok: {url} answered {reply.status}")
    except urllib.error.HTTPError as error:
        sys.exit(f"{url} answered {error.code}")
    except OSError as error:
        sys.exit(f"{url} did not answer: {error}")
