"""Rate limits per user, and per client address for requests without a valid token, counted
in the shared cache (Redis), so every gunicorn worker and every web host sees the same counts.

They fail open: if the cache is unreachable (Redis restarting), requests are served
unthrottled, with a warning, rather than answered 500. Throttling protects capacity; it is
not an authorisation check (DRF's docs say as much).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class FailOpen(SimpleRateThrottle):
    """Serve unthrottled, with a warning, while the cache is unreachable."""

    def allow_request(self, request: Request, view: APIView | None) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:
            logger.warning("throttle cache unavailable (%s); not throttling", type(exc).__name__)
            return True


class UserThrottle(FailOpen, UserRateThrottle):
    """All requests of a user (``DEFAULT_THROTTLE_RATES["user"]``): mostly polls."""


class SubmitRateThrottle(UserThrottle):
    """Document submissions (``DEFAULT_THROTTLE_RATES["submit"]``), which cost LLM calls,
    limited more tightly than reads."""

    scope = "submit"


class AnonymousThrottle(FailOpen):
    """Requests with no valid token (none, malformed, unknown, expired, revoked), per client
    address (``DEFAULT_THROTTLE_RATES["anon"]``).

    Called by the token authentication itself (api_tokens.authentication), not listed as a
    view throttle: DRF answers 401 from its permission check before any throttle runs. The
    address is REMOTE_ADDR, or the X-Forwarded-For entry ``NUM_PROXIES`` from the right, which
    the settings allow only behind the TLS proxy (DRF's ``get_ident``).
    """

    scope = "anon"

    def get_cache_key(self, request: Request, view: APIView | None) -> str:
        # Not request.user: this runs while authentication is still deciding it.
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
