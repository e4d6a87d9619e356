"""The bench's floor: duet's job life in bare Celery + psycopg2 (README.md, "Performance").

Run with the worker venv's Python (same Celery and psycopg2 as duet's worker):

    python floor.py setup ROLE           # the table, and its grants to the worker's ROLE
    python floor.py worker               # a Celery worker (argv after it goes to Celery)
    python floor.py paced N INTERVAL     # N jobs, one every INTERVAL seconds
    python floor.py burst N              # N jobs at once (the worker is stopped meanwhile)

Environment: FLOOR_DATABASE_URL (the worker's role), FLOOR_PRODUCER_URL (the producer's),
FLOOR_BROKER_URL. Prints the ids it created, one per line.
"""

from __future__ import annotations

import os
import sys
import time

import psycopg2
from celery import Celery, signals

QUEUE = "floor"
TASK = "floor.run"
TABLE = "floor_job"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    status text NOT NULL DEFAULT 'queued',
    attempts integer NOT NULL DEFAULT 0,
    title text NOT NULL,
    result text NOT NULL DEFAULT '',
    created timestamptz NOT NULL DEFAULT statement_timestamp(),
    started timestamptz,
    finished timestamptz
)"""

app = Celery("floor", broker=os.environ.get("FLOOR_BROKER_URL", "redis://"))
app.conf.update(
    task_default_queue=QUEUE,
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
)

_connection: psycopg2.extensions.connection | None = None


def connection() -> psycopg2.extensions.connection:
    """This process's one connection, opened on first use (after the fork), autocommit."""
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg2.connect(os.environ["FLOOR_DATABASE_URL"])
        _connection.autocommit = True
    return _connection


@signals.worker_process_init.connect
def _forget_parent_connection(**kwargs: object) -> None:
    global _connection
    _connection = None


@app.task(name=TASK)
def run(job_id: int) -> None:
    """Claim the job (one conditional UPDATE … RETURNING), do the work, write the result."""
    with connection().cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET status = 'running', attempts = attempts + 1,"
            " started = statement_timestamp()"
            " WHERE id = %s AND status = 'queued' RETURNING attempts, title",
            (job_id,),
        )
        row = cursor.fetchone()
        if row is None:
            return
        attempt, title = row
        cursor.execute(
            f"UPDATE {TABLE} SET status = 'succeeded', result = %s,"
            " finished = statement_timestamp()"
            " WHERE id = %s AND status = 'running' AND attempts = %s",
            (title.upper(), job_id, attempt),
        )


def setup(role: str) -> None:
    """Create the table (as the producer) and let the worker's role claim and finish rows."""
    producer = psycopg2.connect(os.environ["FLOOR_PRODUCER_URL"])
    producer.autocommit = True
    with producer.cursor() as cursor:
        cursor.execute(SCHEMA)
        cursor.execute(f'GRANT SELECT, UPDATE ON {TABLE} TO "{role}"')
    producer.close()


def produce(count: int, interval: float) -> None:
    """Insert and publish ``count`` jobs, ``interval`` seconds apart (0: at once)."""
    producer = psycopg2.connect(os.environ["FLOOR_PRODUCER_URL"])
    producer.autocommit = True
    begin = time.monotonic()
    with app.producer_or_acquire() as publisher, producer.cursor() as cursor:
        for index in range(count):
            if interval:
                delay = begin + index * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            cursor.execute(f"INSERT INTO {TABLE} (title) VALUES (%s) RETURNING id", ("floor",))
            (job_id,) = cursor.fetchone()
            app.send_task(TASK, args=[job_id], queue=QUEUE, producer=publisher)
            print(job_id)


def main(argv: list[str]) -> None:
    if argv[:1] == ["setup"]:
        setup(argv[1])
    elif argv[:1] == ["worker"]:
        app.worker_main(["worker", *argv[1:]])
    elif argv[:1] == ["paced"]:
        produce(int(argv[1]), float(argv[2]))
    elif argv[:1] == ["burst"]:
        produce(int(argv[1]), 0.0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
