"""One real stack for the whole session: PostgreSQL, Redis, gunicorn, Celery, sweeper."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from dev.stack import Stack
from dev.system import STATE, read_or_create_secret


@contextmanager
def fresh_stack(name: str, **options) -> Iterator[Stack]:
    """A stack in an emptied ``.state/<name>``, for tests that must not disturb the shared one."""
    shutil.rmtree(STATE / name, ignore_errors=True)
    with Stack(STATE / name, fast_db=True, **options) as running:
        yield running


@pytest.fixture(scope="session")
def stack():
    state = STATE / "e2e"
    shutil.rmtree(state, ignore_errors=True)
    # Throttles out of the way: schemathesis sends a thousand requests as one user, and many
    # without a token or with a broken one, all from one address.
    web_env = {f"DUET_THROTTLE_{scope}": "1000000/min" for scope in ("USER", "SUBMIT", "ANON")}
    # JSON logs, as the Compose file sets them (test_json_logs.py reads them).
    json_logs = {"DUET_LOG_FORMAT": "json"}
    # /metrics on, its token in a secret file like every other secret (test_metrics.py).
    read_or_create_secret(state / "secrets" / "metrics-token")
    web_env["DUET_METRICS_TOKEN_FILE"] = str(state / "secrets" / "metrics-token")
    options = {"web_env": {**web_env, **json_logs}, "worker_env": json_logs}
    with Stack(state, fast_db=True, sweep_interval=1.0, **options) as running:
        yield running


@pytest.fixture(scope="session")
def token(stack):
    # Kept in the stack's secrets folder, as ./dev up keeps its own: the secrets tests then
    # also look for it in every log.
    return stack.remembered_token("e2e")


@pytest.fixture(scope="session")
def other_token(stack):
    return stack.create_token("e2e-other")


@pytest.fixture(scope="session")
def metrics_token(stack):
    return (stack.state / "secrets" / "metrics-token").read_text()
