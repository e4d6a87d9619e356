"""System checks for the documents API."""

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(deploy=True)
def throttling_is_shared(**kwargs: Any) -> list[checks.CheckMessage]:
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith(("LocMemCache", "DummyCache")):
        return [
            checks.Warning(
                f"CACHES['default'] is {backend}: throttling counts per process, not per user.",
                hint="Set CACHE_URL to a Redis URL shared by every web process.",
                id="documents.W001",
            )
        ]
    return []
