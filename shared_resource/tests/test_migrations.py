"""The models and the migrations shipped with them agree, in this environment's Django."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_match_their_migrations():
    # Exits non-zero (SystemExit) if a model change has no migration.
    call_command("makemigrations", "common", "--check", "--dry-run", verbosity=0)
