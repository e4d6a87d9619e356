"""Rejects oversized request bodies with 413 before anything parses them.

DRF's parsers read the request stream directly, so Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``
check (made only by ``request.body`` and ``request.POST``) never runs for JSON. This applies
the same setting to every body, by its declared length.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


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
            return JsonResponse(
                {"detail": f"Request body too large: the limit is {limit} bytes."},
                status=413,
            )
        return self.get_response(request)
