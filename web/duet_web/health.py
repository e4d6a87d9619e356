"""Readiness: the web is ready when it reaches the database and the broker, and the database
schema is within this release's window (duet_web/guard.py)."""

from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.request import Request
from rest_framework.response import Response

from shared_resource.connections import reconnecting

from .celery import app as celery_app
from .guard import schema_ok


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _database_ok() -> bool:
    try:
        reconnecting(_select_one)
        return True
    except Exception:
        return False


def _schema_state() -> str:
    try:
        return "ok" if schema_ok() else "incompatible"
    except Exception:
        return "unavailable"


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=2)
        return True
    except Exception:
        return False


@extend_schema(
    responses={
        (200, "application/json"): inline_serializer(
            "Health",
            fields={
                "database": serializers.CharField(),
                "broker": serializers.CharField(),
                "schema": serializers.CharField(),
            },
        ),
        (503, "application/json"): inline_serializer(
            "Unhealthy",
            fields={
                "database": serializers.CharField(),
                "broker": serializers.CharField(),
                "schema": serializers.CharField(),
            },
        ),
    }
)
@api_view(["GET"])
@authentication_classes([])
@throttle_classes([])
@permission_classes([])
def health(request: Request) -> Response:
    """The only endpoint without a token: 200 when the database and broker answer and the
    schema is within this release's window, else 503 (which one is named, not why)."""
    database = _database_ok()
    checks = {
        "database": "ok" if database else "unavailable",
        "broker": "ok" if _broker_ok() else "unavailable",
        "schema": _schema_state() if database else "unavailable",
    }
    ready = all(value == "ok" for value in checks.values())
    return Response(checks, status=200 if ready else 503)
