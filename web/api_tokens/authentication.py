"""``Authorization: Token duet_<id>_<secret>``: DRF's token authentication over hashed keys.

Header parsing, the 401 answers and ``WWW-Authenticate: Token`` are DRF's own
(``TokenAuthentication``); only the credential lookup changes: the token is hashed and the
hash looked up, so the database never needs the token itself. A request that ends up without
a valid token is counted per client address and answered 429 once over the anonymous rate.
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request

from documents.throttling import AnonymousThrottle
from shared_resource.connections import reconnecting

from .models import ApiToken


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        try:
            result = super().authenticate(request)
        except AuthenticationFailed:
            self._count_anonymous(request)
            raise
        if result is None:
            self._count_anonymous(request)
        return result

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        # Every API request's first query: it also checks the kept connection.
        token = reconnecting(lambda: ApiToken.objects.find(key))
        if token is None or not token.user.is_active:
            raise AuthenticationFailed("Invalid token.")
        if token.expired():
            raise AuthenticationFailed("Token expired.")
        token.mark_used()
        return token.user, token

    @staticmethod
    def _count_anonymous(request: Request) -> None:
        throttle = AnonymousThrottle()
        if not throttle.allow_request(request, None):
            raise Throttled(throttle.wait())
