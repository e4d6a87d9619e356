"""Rate limits per user, counted in the shared cache (Redis), so every gunicorn worker and
every web host sees the same counts."""

from rest_framework.throttling import UserRateThrottle


class SubmitRateThrottle(UserRateThrottle):
    """Limits document submissions (``DEFAULT_THROTTLE_RATES["submit"]``), which cost LLM
    calls, more tightly than reads (``"user"``), which are mostly polls."""

    scope = "submit"
