"""The token table: a public id, the token's SHA-256 and its bookkeeping; never the token."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from shared_resource.prepared import Statement

from . import tokens

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: last_used is written at most this often per token, not on every request.
LAST_USED_EVERY = timedelta(minutes=5)


class ApiTokenManager(models.Manager["ApiToken"]):
    def mint(
        self, user: User, name: str = "", expires_in: timedelta | None = None
    ) -> tuple[ApiToken, str]:
        """Create a token for ``user``; the clear token is returned here and nowhere else."""
        token_id = tokens.new_id()
        token = tokens.new_token(token_id)
        row = self.create(
            id=token_id,
            digest=tokens.digest(token),
            user=user,
            name=name,
            expires=timezone.now() + expires_in if expires_in else None,
        )
        return row, token

    def find(self, token: str) -> ApiToken | None:
        """The row of a presented token (expired or not), with its user, or None.

        What ``select_related("user").filter(digest=…)`` reads, but the SQL is written once
        from the models' metadata (:func:`_find`): every API request runs this, and the
        ORM compiling the same query again on each was the request's largest Python cost;
        the server plans it once per connection (shared_resource/prepared.py).
        """
        if not tokens.well_formed(token):
            return None
        statement, token_fields, user_fields = _find()
        row = statement.fetchone({"digest": tokens.digest(token)})
        if row is None:
            return None
        split = len(token_fields)
        found = self.model.from_db(connection.alias, [f.attname for f in token_fields], row[:split])
        found.user = get_user_model().from_db(
            connection.alias, [f.attname for f in user_fields], row[split:]
        )
        return found


@cache
def _find() -> tuple[Statement, list[models.Field], list[models.Field]]:
    """``SELECT`` a token's row and its user's by the token's digest, and the fields of each
    (built on first use: the user model is only known once the apps are loaded)."""

    def quote(field: models.Field) -> str:
        # Concrete fields always have a column; the stubs type it optional for the others.
        assert field.column is not None
        return connection.ops.quote_name(field.column)

    def table(model: type[models.Model]) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    user_model = get_user_model()
    token_fields = list(ApiToken._meta.concrete_fields)
    user_fields = list(user_model._meta.concrete_fields)
    columns = [f"t.{quote(f)}" for f in token_fields]
    columns += [f"u.{quote(f)}" for f in user_fields]
    user_key = ApiToken._meta.get_field("user")
    sql = (
        f"SELECT {', '.join(columns)} FROM {table(ApiToken)} t JOIN {table(user_model)} u"
        f" ON u.{quote(user_model._meta.pk)} = t.{quote(user_key)}"
        f" WHERE t.{quote(ApiToken._meta.get_field('digest'))} = %(digest)s"
    )
    return Statement(sql), token_fields, user_fields


class ApiToken(models.Model):
    id = models.CharField(primary_key=True, max_length=tokens.ID_LENGTH, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenManager()

    class Meta:
        ordering = ["created"]

    def __str__(self) -> str:
        return f"{self.id} ({self.name or 'unnamed'})"

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires is not None and self.expires <= (now or timezone.now())

    def mark_used(self) -> None:
        """Record use, at most once per LAST_USED_EVERY (a conditional UPDATE, so concurrent
        requests write once)."""
        now = timezone.now()
        if self.last_used is not None and now - self.last_used < LAST_USED_EVERY:
            return
        stale = Q(last_used__isnull=True) | Q(last_used__lt=now - LAST_USED_EVERY)
        if ApiToken.objects.filter(stale, pk=self.pk).update(last_used=now):
            self.last_used = now
