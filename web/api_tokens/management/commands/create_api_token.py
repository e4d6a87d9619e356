"""``create_api_token <user>``: print a new token for an existing user, alone on stdout."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ._shared import add_token_arguments, get_user, mint_and_print


class Command(BaseCommand):
    help = "Mint another API token for an existing user and print it (shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        add_token_arguments(parser)

    def handle(
        self, *args: Any, username: str, name: str, expires_in: str | None, **options: Any
    ) -> None:
        mint_and_print(self, get_user(username), name, expires_in)
