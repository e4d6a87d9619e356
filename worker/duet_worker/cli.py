"""Console entry points: ``duet-worker`` (the Celery worker with duet's app; extra arguments
go to Celery) and ``duet-worker-health`` (exit 0 while the heartbeat file is fresh)."""

import os
import sys
import time


def main() -> None:
    from celery.bin.celery import main as celery_main

    sys.argv = ["celery", "--app", "duet_worker", "worker", *sys.argv[1:]]
    celery_main()


def health() -> None:
    """Exit 0 if the worker touched its heartbeat file recently, 1 otherwise."""
    from .celery import Heartbeat

    path = os.environ.get("DUET_WORKER_HEARTBEAT_FILE")
    if not path:
        sys.exit("DUET_WORKER_HEARTBEAT_FILE is not set")
    try:
        age = time.time() - os.stat(path).st_mtime
    except FileNotFoundError:
        sys.exit(f"no heartbeat at {path}: the worker is not running")
    if age > 3 * Heartbeat.interval:
        sys.exit(f"heartbeat is {age:.0f} s old: the worker is stuck")
    print(f"ok: heartbeat {age:.1f} s old")
