"""The OpenAPI schema is valid and public, with its two UIs; health tells the truth."""

import pytest
from django.core.management import call_command
from django.db import connection

from duet_web.guard import check_at_start
from shared_resource.compatibility import breaking, compatible, record_classes

from .conftest import broker_outage

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    schema = (tmp_path / "s.yml").read_text()
    assert "'202':" in schema
    assert "maxLength: 100000" in schema
    for code in ("'401':", "'404':", "'413':", "'422':", "'429':", "'503':"):
        assert code in schema


def test_the_schema_documents_the_token_scheme(client):
    schema = client.get("/api/schema/?format=json").json()
    scheme = schema["components"]["securitySchemes"]["apiToken"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "Token duet_<id>_<secret>" in scheme["description"]
    operations = [op for path in schema["paths"].values() for op in path.values()]
    secured = [op for op in operations if op.get("security") == [{"apiToken": []}]]
    assert len(secured) == len(operations) - 1  # all but the health check


def test_the_schema_and_its_docs_are_public(client):
    assert client.get("/api/schema/?format=json").status_code == 200
    # A wrong token does not hide them either: they are not authenticated at all.
    assert client.get("/api/schema/", HTTP_AUTHORIZATION="Token wrong").status_code == 200
    for page, asset in (("/api/docs/", "swagger-ui-dist"), ("/api/redoc/", "redoc")):
        body = client.get(page).content.decode()
        assert f"/static/drf_spectacular_sidecar/{asset}/" in body
        assert "https://" not in body  # nothing from elsewhere


def test_health_answers_without_a_token(client):
    response = client.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "schema": "ok"}


def test_health_is_503_when_the_broker_is_down(client):
    with broker_outage():
        response = client.get("/api/health/")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "unavailable", "schema": "ok"}


@pytest.fixture
def applied_by_a_newer_release(settings):
    """A migration this release does not ship, recorded as applied, with its class."""
    settings.DUET_SCHEMA_CHECK_INTERVAL = 0

    def apply(kind):
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO django_migrations (app, name, applied) "
                "VALUES ('common', '0999_newer', now())"
            )
        record_classes("default", {"0999_newer": kind})

    yield apply
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE name = '0999_newer'")
        cursor.execute("DELETE FROM common_migrationclass WHERE name = '0999_newer'")


def test_health_is_200_ahead_of_a_compatible_migration(client, applied_by_a_newer_release):
    applied_by_a_newer_release(compatible("a new nullable column"))
    response = client.get("/api/health/")
    assert response.status_code == 200
    assert response.json()["schema"] == "ok"


def test_health_is_503_ahead_of_a_breaking_migration(client, applied_by_a_newer_release):
    applied_by_a_newer_release(breaking("drops a column"))
    response = client.get("/api/health/")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "ok", "schema": "incompatible"}


@pytest.mark.django_db(transaction=True)
def test_gunicorn_refuses_to_start_ahead_of_a_breaking_migration(applied_by_a_newer_release):
    applied_by_a_newer_release(breaking("drops a column"))
    with pytest.raises(SystemExit) as refused:
        check_at_start()
    assert refused.value.code == 78
