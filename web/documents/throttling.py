"""Rate limits per user, and per client address for requests without a valid token, counted
in the shared cache (Redis), so every gunicorn worker and every web host sees the same counts.

They fail open: if the cache is unreachable (Redis restarting), requests are served
unthrottled, with a warning, rather than answered 500. Throttling protects capacity; it is
not an authorisation check (DRF's docs say as much).

DRF's own throttles keep each client's request history as a pickled list, read and written
back (two round trips, a list as long as the rate, and a race between workers). These
count instead: a sliding-window counter (the current window's count plus the previous
window's, weighted by how much of it still overlaps), one pipelined ``INCR``/``EXPIRE``/
``GET`` per throttle, atomic in Redis. Refused requests count too, so a client that keeps
hammering stays throttled.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


def hit(key: str, window: int, now: float) -> tuple[int, int]:
    """Count one request under ``key``; return (this window's count, the previous one's)."""
    bucket = int(now // window)
    current, previous = f"{key}:{bucket}", f"{key}:{bucket - 1}"
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # Django's Redis cache stores integers as plain numbers, so INCR works on them.
        client = backend._cache.get_client(write=True)
        with client.pipeline(transaction=False) as pipe:
            counted = backend.make_and_validate_key(current)
            pipe.incr(counted)
            pipe.expire(counted, 2 * window)
            pipe.get(backend.make_and_validate_key(previous))
            count, _, before = pipe.execute()
        return int(count), int(before or 0)
    # Any other cache (the in-process one of development): the same counts, non-atomically.
    backend.add(current, 0, 2 * window)
    return backend.incr(current), int(backend.get(previous) or 0)


class FailOpen(SimpleRateThrottle):
    """A sliding-window counter that serves unthrottled, with a warning, while the cache is
    unreachable."""

    def allow_request(self, request: Request, view: APIView | None) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        window = max(1, int(self.duration))
        self.now = self.timer()
        try:
            count, before = hit(self.key, window, self.now)
        except Exception as exc:
            logger.warning("throttle cache unavailable (%s); not throttling", type(exc).__name__)
            return True
        overlap = 1 - (self.now % window) / window
        self.estimate = count + before * overlap
        self.window = window
        return self.estimate <= self.num_requests

    def wait(self) -> float:
        """Seconds until this window ends (at least one): a bound, not an exact time."""
        return max(1.0, self.window - self.now % self.window)


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
