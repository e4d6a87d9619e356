"""What one POST costs the database and the cache, counted (figures are ./dev bench's)."""

import pytest
from django.db import close_old_connections, connection, connections
from django.test.utils import CaptureQueriesContext

from api_tokens.models import _find
from documents import submit, throttling
from shared_resource.models import SummaryJob

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"title": "t", "text": "Counted text. It has two sentences."}


def test_a_post_is_two_statements_and_one_cache_round_trip(api, broker, monkeypatch):
    assert api.post("/api/documents/", BODY, format="json").status_code == 202  # last_used set
    checks = []
    wrapper = type(connections["default"])
    monkeypatch.setattr(wrapper, "is_usable", lambda self: checks.append(1) or True)
    close_old_connections()  # what gunicorn's request_started does before every request
    calls = []
    real_hit = throttling.hit
    monkeypatch.setattr(
        throttling, "hit", lambda keys, now: calls.append(keys) or real_hit(keys, now)
    )
    with CaptureQueriesContext(connection) as queries:
        reply = api.post("/api/documents/", BODY, format="json")
    assert reply.status_code == 202
    # The token (with its user), then the document and its job in one statement, both
    # prepared by the first POST (shared_resource/prepared.py); no SELECT 1 before them
    # (shared_resource/connections.py).
    assert [q["sql"].split(None, 2)[:2] for q in queries] == [
        ["EXECUTE", _find()[0].name],
        ["EXECUTE", submit.CREATE.name],
    ]
    assert checks == []
    # Both throttles (the user's and the submissions') in one pipeline.
    assert len(calls) == 1 and len(calls[0]) == 2
    job = SummaryJob.objects.select_related("document").get(id=reply.data["id"])
    assert (job.document.title, job.status, job.attempts) == ("t", "queued", 0)
    assert job.lease_expires is not None
    # Both rows carry the statement's time, in the database's clock.
    assert job.created == job.document.created
    assert reply.data["created"] == job.created.isoformat().replace("+00:00", "Z")
    assert str(job.id) in [m["id"] for m in broker.messages()]
