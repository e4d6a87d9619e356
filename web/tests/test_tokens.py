"""API tokens: stored hashed, several per user, expiring, revocable, last use recorded sparingly."""

import importlib
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from api_tokens.models import LAST_USED_EVERY, ApiToken
from api_tokens.tokens import parse_duration

pytestmark = pytest.mark.django_db


def client_with(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def mint(capsys, *args):
    call_command(*args)
    return capsys.readouterr().out.strip()


def test_two_tokens_of_one_user_both_work(user):
    _, first = ApiToken.objects.mint(user, name="laptop")
    _, second = ApiToken.objects.mint(user, name="ci")
    assert first != second
    for token in (first, second):
        assert client_with(token).get("/api/documents/").status_code == 200


def test_the_database_never_holds_the_token(user):
    row, token = ApiToken.objects.mint(user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_tokens_apitoken")
        stored = repr(cursor.fetchall())
    secret = token.rsplit("_", 1)[1]
    assert row.id in stored
    assert token not in stored and secret not in stored


def test_a_revoked_token_gets_401(capsys, user):
    token = mint(capsys, "create_api_token", "ada")
    assert client_with(token).get("/api/documents/").status_code == 200
    token_id = token.split("_")[1]
    call_command("revoke_api_token", token_id)
    response = client_with(token).get("/api/documents/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_revoking_one_token_leaves_the_others(capsys, user):
    kept = mint(capsys, "create_api_token", "ada")
    gone = mint(capsys, "create_api_token", "ada")
    call_command("revoke_api_token", gone.split("_")[1])
    assert client_with(kept).get("/api/documents/").status_code == 200


def test_an_expired_token_gets_401(capsys, user):
    token = mint(capsys, "create_api_token", "ada", "--expires-in", "1h")
    row = ApiToken.objects.get()
    assert timedelta(minutes=59) < row.expires - timezone.now() <= timedelta(hours=1)
    assert client_with(token).get("/api/documents/").status_code == 200
    row.expires = timezone.now() - timedelta(seconds=1)
    row.save()
    response = client_with(token).get("/api/documents/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Token expired."}


def test_an_inactive_users_token_gets_401(user):
    _, token = ApiToken.objects.mint(user)
    user.is_active = False
    user.save()
    assert client_with(token).get("/api/documents/").status_code == 401


@pytest.mark.parametrize(
    "token",
    ["duet_", "duet_0123456789ab_" + "A" * 42, "duet_0123456789ab_" + "A" * 43, "0" * 40, "x"],
)
def test_malformed_or_unknown_tokens_get_401(user, token):
    ApiToken.objects.mint(user)
    assert client_with(token).get("/api/documents/").status_code == 401


def test_last_used_is_written_at_most_once_per_interval(user):
    row, token = ApiToken.objects.mint(user)
    client = client_with(token)
    assert row.last_used is None
    client.get("/api/documents/")
    first = ApiToken.objects.get().last_used
    assert first is not None
    client.get("/api/documents/")
    assert ApiToken.objects.get().last_used == first
    # As if the interval had passed since: the next request records it again.
    ApiToken.objects.update(last_used=first - LAST_USED_EVERY)
    client.get("/api/documents/")
    assert ApiToken.objects.get().last_used > first


def test_list_shows_ids_names_and_dates_never_tokens(capsys, user, other_user):
    laptop = mint(capsys, "create_api_token", "ada", "--name", "laptop")
    ci = mint(capsys, "create_api_token", "ada", "--name", "ci", "--expires-in", "2w")
    mint(capsys, "create_api_token", "grace", "--name", "not-ada")
    ApiToken.objects.filter(pk=ci.split("_")[1]).update(expires=timezone.now() - timedelta(days=1))
    listing = mint(capsys, "list_api_tokens", "ada")
    lines = listing.splitlines()
    assert lines[0].split() == ["id", "name", "created", "expires", "last", "used"]
    assert len(lines) == 3
    assert lines[1].startswith(laptop.split("_")[1]) and "laptop" in lines[1]
    assert "never" in lines[1]
    assert lines[2].startswith(ci.split("_")[1]) and "(expired)" in lines[2]
    assert "not-ada" not in listing
    assert laptop not in listing and ci not in listing


def test_commands_refuse_unknown_users_ids_and_bad_durations(user):
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("create_api_token", "nobody")
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("list_api_tokens", "nobody")
    with pytest.raises(CommandError, match="no token with id 'feedfeedfeed'"):
        call_command("revoke_api_token", "feedfeedfeed")
    for bad in ("0d", "10", "1y", "-5m", "3 days"):
        with pytest.raises(CommandError, match="invalid duration"):
            call_command("create_api_token", "ada", f"--expires-in={bad}")
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90d", timedelta(days=90)), ("12h", timedelta(hours=12)), ("2w", timedelta(weeks=2))],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


def test_drf_tokens_are_carried_over_hashed_and_their_table_dropped(user):
    """What migration 0002 does on a database that still has DRF's authtoken table."""
    key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY,"
            " created timestamptz NOT NULL, user_id integer NOT NULL)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [key, user.id])
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied)"
            " VALUES ('authtoken', '0001_initial', now())"
        )
    migration = importlib.import_module("api_tokens.migrations.0002_carry_over_drf_tokens")
    with connection.schema_editor() as editor:
        migration.carry_over(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'authtoken'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT * FROM api_tokens_apitoken")
        assert key not in repr(cursor.fetchall())
    carried = ApiToken.objects.get()
    assert (carried.user, carried.name) == (user, "DRF token (migrated)")
    assert client_with(key).get("/api/documents/").status_code == 200


def test_a_new_user_gets_a_working_token(capsys):
    token = mint(capsys, "create_api_user", "lin", "--name", "first")
    assert re.match(r"duet_[0-9a-f]{12}_", token)
    assert get_user_model().objects.get(username="lin").api_tokens.get().name == "first"
    assert client_with(token).get("/api/documents/").status_code == 200
