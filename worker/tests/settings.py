"""Test settings: the worker's real settings, minus the router so the test DB can be built.

Django's test runner must create and migrate ``test_duet``; the deployed worker never can
(router, DML-only role). Tests run as a CREATEDB role for that reason.
"""

from duet_worker.settings import *  # noqa: F403

DATABASE_ROUTERS: list[str] = []
# Retries in tests wait milliseconds, not seconds.
DUET_RETRY_BACKOFF = 0.05
DUET_RETRY_BACKOFF_MAX = 0.2
DUET_MAX_ATTEMPTS = 3
# No timed schema checks in the test worker: tests that move the schema call the check.
DUET_SCHEMA_CHECK_INTERVAL = 0
