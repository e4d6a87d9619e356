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
from typing import TYPE_CHECKING, Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle, UserRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.request import Request
    from rest_framework.views import APIView

    # CountedTogether mixes into APIView subclasses: a base for the type checker only.
    _View = APIView
else:
    _View = object

logger = logging.getLogger(__name__)


def hit(keys: list[tuple[str, int]], now: float) -> list[tuple[int, int]]:
    """Count one request under each ``(key, window)``, all in one round trip; return, per
    key, (this window's count, the previous window's)."""
    backend = caches["default"]
    buckets = [
        (f"{key}:{int(now // window)}", f"{key}:{int(now // window) - 1}", window)
        for key, window in keys
    ]
    if isinstance(backend, RedisCache):
        # Django's Redis cache stores integers as plain numbers, so INCR works on them.
        with _client(backend).pipeline(transaction=False) as pipe:
            for current, previous, window in buckets:
                counted = backend.make_and_validate_key(current)
                pipe.incr(counted)
                pipe.expire(counted, 2 * window)
                pipe.get(backend.make_and_validate_key(previous))
            replies = pipe.execute()
        return [(int(replies[i]), int(replies[i + 2] or 0)) for i in range(0, len(replies), 3)]
    # Any other cache (the in-process one of development): the same counts, non-atomically.
    counts = []
    for current, previous, window in buckets:
        backend.add(current, 0, 2 * window)
        counts.append((backend.incr(current), int(backend.get(previous) or 0)))
    return counts


def _client(backend: RedisCache) -> Any:
    """The cache's Redis client, made once per backend: Django makes a new one (with its
    table of response callbacks) on every call, over the same connection pool."""
    client = backend.__dict__.get("_throttle_client")
    if client is None:
        client = backend.__dict__["_throttle_client"] = backend._cache.get_client(write=True)
    return client


def allow_all(throttles: list[BaseThrottle], request: Request, view: APIView | None) -> list[bool]:
    """Whether each throttle lets the request through, counted in one round trip for all."""
    counted = [t for t in throttles if isinstance(t, FailOpen) and t.prepare(request, view)]
    try:
        # prepare() kept only the throttles that found a key.
        counts = hit([(t.key, t.window) for t in counted], counted[0].now) if counted else []  # type: ignore[misc]
    except Exception as exc:
        logger.warning("throttle cache unavailable (%s); not throttling", type(exc).__name__)
        counts = [(0, 0)] * len(counted)
    for throttle, (count, before) in zip(counted, counts, strict=True):
        throttle.decide(count, before)
    # DRF's throttles take no view too (the token authentication's throttle runs before one).
    return [
        t.allowed if isinstance(t, FailOpen) else t.allow_request(request, view)  # type: ignore[arg-type]
        for t in throttles
    ]


class FailOpen(SimpleRateThrottle):
    """A sliding-window counter that serves unthrottled, with a warning, while the cache is
    unreachable."""

    allowed = True
    #: Set by SimpleRateThrottle.__init__ from the rate.
    num_requests: int
    duration: int

    def prepare(self, request: Request, view: APIView | None) -> bool:
        """Find this request's key; False if this throttle does not count it."""
        self.allowed = True
        # DRF's get_cache_key takes no view too (see allow_all).
        self.key = self.get_cache_key(request, view) if self.rate is not None else None  # type: ignore[arg-type]
        self.window = max(1, int(self.duration)) if self.rate is not None else 1
        self.now = self.timer()
        return self.key is not None

    def decide(self, count: int, before: int) -> None:
        overlap = 1 - (self.now % self.window) / self.window
        self.allowed = count + before * overlap <= self.num_requests

    def allow_request(self, request: Request, view: APIView | None) -> bool:
        return allow_all([self], request, view)[0]

    def wait(self) -> float:
        """Seconds until this window ends (at least one): a bound, not an exact time."""
        return max(1.0, self.window - self.now % self.window)


class CountedTogether(_View):
    """A view mixin: all of a request's throttles counted in one round trip to the cache."""

    def check_throttles(self, request: Request) -> None:
        throttles = self.get_throttles()
        allowed = allow_all(throttles, request, self)
        waits = [t.wait() for t, ok in zip(throttles, allowed, strict=True) if not ok]
        if waits:
            self.throttled(request, max(w for w in waits if w is not None))


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
