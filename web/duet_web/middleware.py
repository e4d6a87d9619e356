"""Rejects oversized request bodies with a 413 that every client can read.

DRF's parsers read the request stream directly, so Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``
check (made only by ``request.body`` and ``request.POST``) never runs for JSON. This applies
the same setting to every body, by its declared length.

A client that sends its whole body before reading (Python's ``urllib``, ``requests``) only
sees the 413 if the server reads that body first: closing a socket with unread bytes makes
the kernel answer with a reset, and the client gets ``BrokenPipeError`` instead. So a body
up to ``DRAIN_LIMIT_BYTES`` is read and thrown away before the answer; a larger declared
length is answered at once (reading it would tie a sync worker to one client), and such a
client may see a reset. gunicorn's worker timeout still bounds a slow sender.
"""

from collections.abc import Callable
from contextlib import suppress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

#: The most an oversized body is read (and discarded) so that its sender sees the 413.
DRAIN_LIMIT_BYTES = 16 * 1024 * 1024
_CHUNK = 64 * 1024


def drain(request: HttpRequest, length: int) -> None:
    """Read and drop up to ``length`` bytes of the body; stop early if the client does."""
    remaining = length
    while remaining > 0:
        chunk = request.read(min(_CHUNK, remaining))
        if not chunk:
            return
        remaining -= len(chunk)


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
        if limit is not None and length > limit:
            if length <= DRAIN_LIMIT_BYTES:
                # A client that went away leaves nobody to read the answer anyway.
                with suppress(OSError):
                    drain(request, length)
            return JsonResponse(
                {"detail": f"Request body too large: the limit is {limit} bytes."},
                status=413,
            )
        return self.get_response(request)
