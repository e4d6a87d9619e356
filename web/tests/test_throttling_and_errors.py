"""Throttles count in the shared Redis cache; database outages are 503; errors are JSON."""

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError

from documents import throttling
from documents.throttling import SubmitRateThrottle, UserThrottle
from duet_web.errors import api_exception_handler

pytestmark = pytest.mark.django_db

BODY = {"title": "t", "text": "Throttled text. It has two sentences."}


@pytest.fixture
def tight_limits(monkeypatch):
    monkeypatch.setattr(SubmitRateThrottle, "THROTTLE_RATES", {"submit": "2/min", "user": "5/min"})
    monkeypatch.setattr(UserThrottle, "THROTTLE_RATES", {"submit": "2/min", "user": "5/min"})
    cache.clear()
    yield
    cache.clear()


def test_the_cache_is_the_shared_redis(tight_limits, api, user):
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    api.get("/api/documents/")
    # The counts sit in Redis, where every gunicorn worker and host reads them.
    keys = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]).keys("*throttle_user*")
    assert keys


def test_submissions_are_throttled_with_retry_after(tight_limits, api, broker):
    statuses = [api.post("/api/documents/", BODY, format="json").status_code for _ in range(3)]
    assert statuses == [202, 202, 429]
    response = api.post("/api/documents/", BODY, format="json")
    assert int(response["Retry-After"]) > 0


def test_reads_have_their_own_wider_limit(tight_limits, api):
    statuses = [api.get("/api/documents/").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_health_is_never_throttled(tight_limits, client):
    assert {client.get("/api/health/").status_code for _ in range(8)} == {200}


def test_a_database_outage_is_a_503_with_retry_after():
    response = api_exception_handler(OperationalError("server closed the connection"), {})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "server closed" not in response.data["detail"]


def test_unknown_urls_answer_json(client):
    response = client.get("/nope/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_an_unreachable_cache_serves_requests_unthrottled(tight_limits, api, monkeypatch, caplog):
    def unreachable(*args, **kwargs):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(throttling, "hit", unreachable)
    assert {api.get("/api/documents/").status_code for _ in range(7)} == {200}
    assert {api.post("/api/documents/", BODY, format="json").status_code for _ in range(3)} == {202}
    assert "throttle cache unavailable (ConnectionError)" in caplog.text


def test_every_answer_carries_a_request_id_and_a_well_formed_one_is_kept(client):
    kept = client.get("/api/health/", headers={"X-Request-ID": "abc-123.x:y"})
    assert kept["X-Request-ID"] == "abc-123.x:y"
    made = client.get("/api/health/", headers={"X-Request-ID": "no spaces allowed"})
    assert made["X-Request-ID"] != "no spaces allowed" and len(made["X-Request-ID"]) == 32
    assert client.get("/api/nowhere/")["X-Request-ID"]


def test_the_previous_window_still_counts_while_it_overlaps(tight_limits, api, monkeypatch):
    clock = [60 * 29_000_000 + 59.0]  # the last second of a minute
    monkeypatch.setattr(throttling.FailOpen, "timer", lambda self: clock[0])
    post = lambda: api.post("/api/documents/", BODY, format="json").status_code  # noqa: E731
    assert [post(), post()] == [202, 202]
    clock[0] += 2  # one second into the next minute: the two still weigh 59/60 each
    assert post() == 429
    clock[0] += 60  # next minute: the refused one counts, 59/60 of it
    assert post() == 202
