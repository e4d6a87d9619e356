"""``revoke_api_token <token id>``: delete a token; the next request with it gets 401."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...models import ApiToken


class Command(BaseCommand):
    help = "Revoke an API token by its id (as shown by list_api_tokens)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("token_id")

    def handle(self, *args: Any, token_id: str, **options: Any) -> None:
        token = ApiToken.objects.select_related("user").filter(pk=token_id).first()
        if token is None:
            raise CommandError(f"no token with id {token_id!r} (see list_api_tokens <user>)")
        token.delete()
        self.stderr.write(f"revoked token {token_id} of user {token.user.get_username()!r}")
