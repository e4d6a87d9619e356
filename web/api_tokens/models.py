"""The token table: a public id, the token's SHA-256 and its bookkeeping; never the token."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

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
        """The row of a presented token (expired or not), or None."""
        if not tokens.well_formed(token):
            return None
        return self.select_related("user").filter(digest=tokens.digest(token)).first()


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
