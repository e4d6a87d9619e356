"""One real stack for the whole session: PostgreSQL, Redis, gunicorn, Celery, sweeper."""

import shutil

import pytest

from harness.stack import Stack
from harness.system import STATE


@pytest.fixture(scope="session")
def stack():
    state = STATE / "e2e"
    shutil.rmtree(state, ignore_errors=True)
    # Throttles out of the way: schemathesis sends a thousand requests as one user, and many
    # without a token or with a broken one, all from one address.
    limits = {
        "DUET_THROTTLE_USER": "1000000/min",
        "DUET_THROTTLE_SUBMIT": "1000000/min",
        "DUET_THROTTLE_ANON": "1000000/min",
    }
    with Stack(state, fast_db=True, sweep_interval=1.0, web_env=limits) as running:
        yield running


@pytest.fixture(scope="session")
def token(stack):
    # Kept in the stack's secrets folder, as ./dev up keeps its own: the secrets tests then
    # also look for it in every log.
    return stack.remembered_token("e2e")


@pytest.fixture(scope="session")
def other_token(stack):
    return stack.create_token("e2e-other")
