"""Throttling counts per user, and per address without a valid token, across gunicorn
workers: the counts live in Redis."""

import pytest

from dev.stack import http_json

from .conftest import fresh_stack


@pytest.fixture(scope="module")
def throttled_stack():
    with fresh_stack(
        "e2e-throttle",
        sweep_interval=None,
        web_workers=3,
        web_env={
            "DUET_THROTTLE_USER": "10/min",
            "DUET_THROTTLE_SUBMIT": "3/min",
            "DUET_THROTTLE_ANON": "4/min",
        },
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


def test_requests_without_a_valid_token_are_throttled_per_address(throttled_stack):
    url = f"{throttled_stack.base_url}/api/documents/"
    # X-Forwarded-For is not trusted without the TLS proxy, so varying it changes nothing.
    statuses = [
        http_json("GET", url, token, headers={"X-Forwarded-For": f"203.0.113.{n}"})[0]
        for n, token in enumerate([None, "wrong", None, "duet_0123456789ab_" + "x" * 43, None])
    ]
    assert statuses == [401, 401, 401, 401, 429]
    # The health check stays unthrottled; a valid token from the same address still works.
    assert http_json("GET", f"{throttled_stack.base_url}/api/health/")[0] == 200
    token = throttled_stack.create_token("valid-from-a-throttled-address")
    assert http_json("GET", url, token)[0] == 200
