"""Management commands."""

import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, connections

from api_tokens.models import ApiToken
from api_tokens.tokens import TOKEN_PATTERN, digest
from documents.management.commands.migrate import LOCK_KEY

pytestmark = pytest.mark.django_db


def test_create_api_user_prints_only_a_token_and_stores_its_hash(capsys):
    call_command("create_api_user", "ada")
    out = capsys.readouterr().out.strip()
    user = get_user_model().objects.get(username="ada")
    assert re.fullmatch(TOKEN_PATTERN, out)
    stored = ApiToken.objects.get(user=user)
    assert out.startswith(f"duet_{stored.id}_")
    assert stored.digest == digest(out) and out not in stored.digest
    assert not user.has_usable_password()


def test_create_api_user_twice_reuses_the_user_and_mints_another_token(capsys):
    call_command("create_api_user", "ada")
    first = capsys.readouterr().out
    call_command("create_api_user", "ada")
    assert capsys.readouterr().out != first
    assert get_user_model().objects.count() == 1
    assert ApiToken.objects.count() == 2


@pytest.mark.parametrize("name", ["", "has space", "semi;colon"])
def test_create_api_user_rejects_bad_names(name):
    with pytest.raises(CommandError):
        call_command("create_api_user", name)
    assert not get_user_model().objects.exists()


def test_web_apps_have_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_migrate_waits_for_another_migrate(django_db_blocker):
    """A second migrate blocks on the advisory lock while the first holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    finished = threading.Event()

    def migrate():
        with django_db_blocker.unblock():
            call_command("migrate", verbosity=0)
            connections.close_all()  # this thread's own connection
        finished.set()

    thread = threading.Thread(target=migrate)
    thread.start()
    try:
        assert not finished.wait(1.5), "migrate ran while another held the lock"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    thread.join(30)
    assert finished.is_set()
