"""A kept connection that the server ended costs a reconnect, not a failed request.

No ``SELECT 1`` runs before a request's first query (CONN_HEALTH_CHECKS is off): the first
query itself finds the dead connection and runs again on a new one (shared_resource/connections.py).
"""

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.test import override_settings

from shared_resource.connections import reconnecting

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"title": "t", "text": "Some text. Two sentences."}
METRICS_TOKEN = "metrics-token-for-tests"


def end_the_kept_session() -> int:
    """What a PostgreSQL restart does to the request's kept connection; returns its pid."""
    pid = connection.connection.info.backend_pid
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    return pid


def test_a_post_on_a_connection_the_server_ended_is_served(api, broker):
    assert api.post("/api/documents/", BODY, format="json").status_code == 202
    ended = end_the_kept_session()
    assert api.post("/api/documents/", BODY, format="json").status_code == 202
    assert connection.connection.info.backend_pid != ended


def test_health_on_a_connection_the_server_ended_is_ok(client, broker):
    assert client.get("/api/health/").status_code == 200
    end_the_kept_session()
    reply = client.get("/api/health/")
    assert reply.status_code == 200, reply.json()


@override_settings(DUET_METRICS_TOKEN=METRICS_TOKEN)
def test_metrics_on_a_connection_the_server_ended_are_served(client):
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    assert client.get("/metrics", headers=headers).status_code == 200
    end_the_kept_session()
    assert client.get("/metrics", headers=headers).status_code == 200


def test_a_failure_inside_a_transaction_is_not_run_again():
    calls = []

    def query():
        calls.append(1)
        raise OperationalError("server closed the connection unexpectedly")

    with transaction.atomic(), pytest.raises(OperationalError):
        reconnecting(query)
    assert calls == [1]  # the transaction's earlier work is gone with its connection
