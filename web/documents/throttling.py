"""Rate limits per user, counted in the shared cache (Redis), so every gunicorn worker and
every web host sees the same counts.

They fail open: if the cache is unreachable (Redis restarting), requests are served
unthrottled, with a warning, rather than answered 500. Throttling protects capacity; it is
not an authorisation check (DRF's docs say as much).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from rest_framework.throttling import UserRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class UserThrottle(UserRateThrottle):
    """All requests of a user (``DEFAULT_THROTTLE_RATES["user"]``): mostly polls."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:
            logger.warning("throttle cache unavailable (%s); not throttling", type(exc).__name__)
            return True


class SubmitRateThrottle(UserThrottle):
    """Document submissions (``DEFAULT_THROTTLE_RATES["submit"]``), which cost LLM calls,
    limited more tightly than reads."""

    scope = "submit"
