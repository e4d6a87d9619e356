"""Summary providers, chosen by the ``DUET_PROVIDER`` setting."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.conf import settings

from .base import (
    PermanentProviderError,
    Provider,
    ProviderError,
    Summary,
    TransientProviderError,
)


def _extractive() -> Provider:
    from .extractive import ExtractiveProvider

    return ExtractiveProvider(max_sentences=settings.DUET_EXTRACTIVE_SENTENCES)


def _openai() -> Provider:
    # Imported only when chosen: the SDK is the heaviest import in the worker.
    from .openai_compatible import OpenAICompatibleProvider

    return OpenAICompatibleProvider(
        base_url=settings.OPENAI_BASE_URL,
        api_key=settings.OPENAI_API_KEY,
        model=settings.DUET_OPENAI_MODEL,
        timeout=settings.DUET_PROVIDER_TIMEOUT,
    )


PROVIDERS: dict[str, Callable[[], Provider]] = {
    "extractive": _extractive,
    "openai": _openai,
}


def preload() -> None:
    """Import the configured provider's module now, in the worker's main process.

    The pool processes forked from it then start with the SDK imported, instead of spending
    a first task's soft time limit on the import.
    """
    if settings.DUET_PROVIDER == "openai":
        from . import openai_compatible  # noqa: F401


@cache
def get_provider() -> Provider:
    """The configured provider, built once per process (the HTTP client keeps its pool)."""
    return PROVIDERS[settings.DUET_PROVIDER]()


__all__ = [
    "PROVIDERS",
    "PermanentProviderError",
    "Provider",
    "ProviderError",
    "Summary",
    "TransientProviderError",
    "get_provider",
    "preload",
]
