"""What the token commands share: finding the user, parsing --expires-in, minting."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...models import ApiToken
from ...tokens import parse_duration


def add_token_arguments(parser: CommandParser) -> None:
    parser.add_argument("--name", default="", help="what the token is for (up to 100 characters)")
    parser.add_argument(
        "--expires-in",
        default=None,
        metavar="DURATION",
        help="e.g. 90d, 12h, 30m, 2w, 3600s (default: never expires)",
    )


def get_user(username: str) -> Any:
    try:
        return get_user_model().objects.get_by_natural_key(username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"no user {username!r}; create one with create_api_user") from None


def mint_and_print(command: BaseCommand, user: Any, name: str, expires_in: str | None) -> None:
    """Mint a token and print it alone on stdout: the only time anyone sees it."""
    if len(name) > 100:
        raise CommandError("--name must be at most 100 characters")
    try:
        duration = parse_duration(expires_in) if expires_in is not None else None
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    token, clear = ApiToken.objects.mint(user, name=name, expires_in=duration)
    expiry = f"expires {token.expires:%Y-%m-%d %H:%M} UTC" if token.expires else "no expiry"
    command.stderr.write(
        f"token {token.id} for user {user.get_username()!r} ({expiry}); "
        "it is shown once and cannot be recovered"
    )
    command.stdout.write(clear)
