"""Management commands."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_create_api_user_prints_only_the_token(capsys):
    call_command("create_api_user", "ada")
    out = capsys.readouterr().out.strip()
    user = get_user_model().objects.get(username="ada")
    assert out == Token.objects.get(user=user).key
    assert not user.has_usable_password()


def test_create_api_user_twice_reuses_the_user_and_token(capsys):
    call_command("create_api_user", "ada")
    first = capsys.readouterr().out
    call_command("create_api_user", "ada")
    assert capsys.readouterr().out == first
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize("name", ["", "has space", "semi;colon"])
def test_create_api_user_rejects_bad_names(name):
    with pytest.raises(CommandError):
        call_command("create_api_user", name)
    assert not get_user_model().objects.exists()


def test_web_apps_have_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
