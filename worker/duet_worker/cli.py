"""``duet-worker``: the Celery worker with duet's app; extra arguments go to Celery."""

import sys


def main() -> None:
    from celery.bin.celery import main as celery_main

    sys.argv = ["celery", "--app", "duet_worker", "worker", *sys.argv[1:]]
    celery_main()
