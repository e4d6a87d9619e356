"""JSON errors everywhere, and 503 (not 500) while the database is unreachable.

Django answers 404/500 outside DRF views with HTML; an API client (and the OpenAPI schema)
expects JSON. A PostgreSQL restart or failover is an outage, not a bug: the client gets 503
with Retry-After, and the request can simply be retried.
"""

import logging
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

#: Seconds a client should wait before retrying while the database is away.
DATABASE_RETRY_AFTER = 5


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable (%s); answering 503", type(exc).__name__)
        return Response(
            {"detail": "The database is unavailable; retry shortly."},
            status=503,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )
    return drf_exception_handler(exc, context)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": "Internal server error."}, status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Forbidden."}, status=403)
