"""Throttling counts per user across gunicorn workers: the counts live in Redis."""

import shutil

import pytest

from harness.stack import Stack, http_json
from harness.system import STATE


@pytest.fixture(scope="module")
def throttled_stack():
    state = STATE / "e2e-throttle"
    shutil.rmtree(state, ignore_errors=True)
    with Stack(
        state,
        fast_db=True,
        sweep_interval=None,
        web_workers=3,
        web_env={"DUET_THROTTLE_USER": "10/min", "DUET_THROTTLE_SUBMIT": "3/min"},
    ) as running:
        yield running


def test_limits_hold_across_gunicorn_workers(throttled_stack):
    token = throttled_stack.create_token("throttled")
    url = f"{throttled_stack.base_url}/api/documents/"
    body = {"title": "t", "text": "Shared counts. Across workers."}
    posts = [http_json("POST", url, token, body)[0] for _ in range(5)]
    assert posts == [202, 202, 202, 429, 429]
    status = http_json("GET", url, token)[0]
    # 5 POSTs and this GET: the user scope counts every request of the user.
    gets = [status] + [http_json("GET", url, token)[0] for _ in range(6)]
    assert gets.count(200) == 5 and gets[-1] == 429
    other = throttled_stack.create_token("not-throttled")
    assert http_json("GET", url, other)[0] == 200
