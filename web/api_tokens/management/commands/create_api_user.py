"""``create_api_user``: make (or reuse) a user and print a new API token, alone on stdout."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ._shared import add_token_arguments, mint_and_print


class Command(BaseCommand):
    help = (
        "Create a user (no password: the API uses tokens), or reuse an existing one, and "
        "print a new token for it. Each run mints another token; earlier ones stay valid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        add_token_arguments(parser)

    def handle(
        self,
        *args: Any,
        username: str,
        email: str,
        name: str,
        expires_in: str | None,
        **options: Any,
    ) -> None:
        User = get_user_model()
        try:
            # The username is a concrete field, never a relation (which has no validators).
            User._meta.get_field(User.USERNAME_FIELD).run_validators(username)  # type: ignore[union-attr]
        except ValidationError as exc:
            raise CommandError(f"invalid username {username!r}: {' '.join(exc.messages)}") from None
        if not username:
            raise CommandError("username must not be blank")
        user, created = User.objects.get_or_create(username=username, defaults={"email": email})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        self.stderr.write(f"{'created' if created else 'existing'} user {username!r}")
        mint_and_print(self, user, name, expires_in)
