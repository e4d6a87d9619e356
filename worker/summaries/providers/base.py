"""The provider contract: turn a document into a summary, or say why not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Summary:
    text: str
    model: str


class ProviderError(Exception):
    """A provider could not summarise. The message is stored on the job: keep it readable,
    and never put a credential in it."""


class TransientProviderError(ProviderError):
    """Worth retrying: a timeout, a lost connection, 408/409/429 or a 5xx."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        #: Seconds the server asked us to wait (Retry-After), if it said.
        self.retry_after = retry_after


class PermanentProviderError(ProviderError):
    """Retrying cannot help: a 4xx such as a bad key, an unknown model or a too-long input."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        #: The full story, for the worker's own record (ProviderCall.error) and logs; the
        #: message alone reaches the job's owner through the API.
        self.detail = detail or message


class Provider(Protocol):
    """Summarises one document per call.

    Return a :class:`Summary`, or raise :class:`TransientProviderError` or
    :class:`PermanentProviderError`. Retrying is the caller's business: a provider makes
    one attempt per call, so attempts are counted in one place (the job row).
    """

    #: Stored on the job as ``provider``.
    name: str

    def summarise(self, *, title: str, text: str) -> Summary: ...
