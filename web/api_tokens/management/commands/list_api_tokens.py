"""``list_api_tokens <user>``: the user's tokens by id; the tokens themselves are not kept."""

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from ...models import ApiToken
from ._shared import get_user

COLUMNS = "{:<12}  {:<24}  {:<16}  {:<24}  {:<16}"


def _when(moment: datetime | None, empty: str) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else empty


class Command(BaseCommand):
    help = "List a user's API tokens: id, name, created, expires, last used (never the token)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = get_user(username)
        now = timezone.now()
        self.stdout.write(COLUMNS.format("id", "name", "created", "expires", "last used").rstrip())
        for token in ApiToken.objects.filter(user=user):
            expires = _when(token.expires, "never")
            if token.expired(now):
                expires += " (expired)"
            self.stdout.write(
                COLUMNS.format(
                    token.id,
                    token.name or "-",
                    _when(token.created, "-"),
                    expires,
                    _when(token.last_used, "never"),
                ).rstrip()
            )
