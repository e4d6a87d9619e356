"""Settings for duet's worker: only what the ORM, Celery and the providers need.

Read from the environment like the web's (``<NAME>_FILE`` works for every variable). There
is no SECRET_KEY: nothing here signs anything. The timeouts nest, and a system check
(summaries/checks.py) refuses a configuration where they do not:

    provider timeout < soft time limit < hard time limit < job lease < visibility timeout
"""

import logging

import environ
from django.core.exceptions import ImproperlyConfigured

from shared_resource import logs
from shared_resource.contract import DEFAULT_MAX_ATTEMPTS, QUEUE

env = environ.FileAwareEnv()

INSTALLED_APPS = [
    # The shared models point at auth's user model, so both must be installed.
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "shared_resource",  # SharedResourceConfig: app label common, tables common_*
    "summaries",
]

# Same variables as the web; the worker's role may only read and write common_* rows.
DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres:///duet")}
# Connections are kept across tasks, one per pool process: a new SCRAM connection costs
# about 100 times a query on an open one. Celery's Django fixup (5.7) would close them around
# every task; with CELERY_DB_REUSE_MAX it closes them only every that many tasks, without
# ever checking them. So Django checks them instead, before and after each task
# (duet_worker/connections.py, close_old_connections, as around an HTTP request): a
# connection that saw an error and fails a query, one left in a transaction, or one older
# than CONN_MAX_AGE is dropped. No CONN_HEALTH_CHECKS (a SELECT 1 before every task):
# the task's first statement, the claim, reconnects once instead if the server ended the
# kept connection (a PostgreSQL restart; summaries/jobs.py), so no task fails or waits for
# a retry on a dead connection. Celery's recycling every 1000 tasks stays as a bound on a
# server backend's lifetime (at most 0.001 new connections per job).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
DATABASE_ROUTERS = ["duet_worker.router.NoMigrations"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

# Which summary provider runs: "extractive" (local, deterministic) or "openai" (any
# OpenAI-compatible chat-completions server: OpenAI, vLLM, Ollama, llama.cpp).
DUET_PROVIDER = env.str("DUET_PROVIDER", default="extractive")
# Seconds one provider request may take.
DUET_PROVIDER_TIMEOUT = env.float("DUET_PROVIDER_TIMEOUT", default=60.0)
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="https://api.openai.com/v1").strip()
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="").strip()
DUET_OPENAI_MODEL = env.str("DUET_OPENAI_MODEL", default="gpt-4o-mini")
# Sentences an extractive summary keeps, at most.
DUET_EXTRACTIVE_SENTENCES = env.int("DUET_EXTRACTIVE_SENTENCES", default=3)

# Seconds between two schema checks of a running worker (0: only at start-up). When the
# database moves out of this release's window, the worker steps aside (exit 78).
DUET_SCHEMA_CHECK_INTERVAL = env.float("DUET_SCHEMA_CHECK_INTERVAL", default=30.0)

# Claims per job; after the last, a transient error fails the job.
DUET_MAX_ATTEMPTS = env.int("DUET_MAX_ATTEMPTS", default=DEFAULT_MAX_ATTEMPTS)
# Delay before the first retry of a transient provider error, doubling up to the maximum.
DUET_RETRY_BACKOFF = env.float("DUET_RETRY_BACKOFF", default=2.0)
DUET_RETRY_BACKOFF_MAX = env.float("DUET_RETRY_BACKOFF_MAX", default=300.0)

# Celery, at-least-once (reference: "Celery reliability with Django").
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://localhost:6379/0").strip()
CELERY_TASK_DEFAULT_QUEUE = QUEUE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Results live in PostgreSQL, on the job row; SQS has no result backend anyway.
CELERY_TASK_IGNORE_RESULT = True
# Ack after the task ran, and requeue (not ack) when the process running it dies.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One reserved message per process: nothing waits unstarted in a busy process past its
# visibility timeout, to be delivered twice.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env.float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", 10.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Keep trying the broker for as long as it is down; the worker has nothing else to do.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None

CELERY_TASK_SOFT_TIME_LIMIT = env.int(
    "CELERY_TASK_SOFT_TIME_LIMIT", default=int(DUET_PROVIDER_TIMEOUT) + 30
)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=CELERY_TASK_SOFT_TIME_LIMIT + 30)
# A running job is its worker's until then; past it, the hard limit has certainly killed
# the attempt, and the web's sweeper gives the job back to the queue.
DUET_LEASE_SECONDS = env.int("DUET_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 30)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis and SQS redeliver an unacked message after this; it must outlast a whole run
    # and the longest retry countdown.
    "visibility_timeout": max(3600, DUET_LEASE_SECONDS + int(DUET_RETRY_BACKOFF_MAX) * 2),
    **env.json("CELERY_BROKER_TRANSPORT_OPTIONS", default={}),
}

# DUET_LOG_FORMAT=plain (default) or json, as the web's (shared_resource/logs.py); the
# worker's filter adds the ids to Celery's own "received" line (duet_worker/logs.py).
DUET_LOG_FORMAT = env.str("DUET_LOG_FORMAT", default="plain")
if DUET_LOG_FORMAT not in logs.FORMATS:
    raise ImproperlyConfigured(
        f"DUET_LOG_FORMAT must be 'plain' or 'json', not {DUET_LOG_FORMAT!r}"
    )
# Python warnings through logging too, so that a JSON log holds only JSON lines.
logging.captureWarnings(True)
LOGGING = logs.logging_config(
    DUET_LOG_FORMAT,
    env.str("DJANGO_LOG_LEVEL", default="INFO"),
    extra_filters={"celery": {"()": "duet_worker.logs.CeleryMessageIds"}},
)
# httpx logs every request URL at INFO; the URL is fine, but keep the noise down.
LOGGING["loggers"] = {"httpx2": {"level": "WARNING"}, "httpx": {"level": "WARNING"}}
