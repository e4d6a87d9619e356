"""The ``Idempotency-Key`` request header (IETF httpapi draft): safe retries of a POST.

A client that lost the answer to a POST sends it again with the same key and gets the
original job back (202, ``Idempotent-Replayed: true``) instead of a second one. Keys are
per user. Reusing a key for a different document is a client bug: 422.
"""

import re

from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request

HEADER = "Idempotency-Key"
_VALID = re.compile(r"[\x20-\x7e]{1,255}")


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = f"This {HEADER} was already used for a different document."
    default_code = "idempotency_key_reused"


def idempotency_key(request: Request) -> str | None:
    """The request's key, ``None`` without one; a malformed key is a 400."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _VALID.fullmatch(key) or not key.strip():
        raise ValidationError(
            {HEADER: ["Must be 1 to 255 printable ASCII characters."]}, code="invalid"
        )
    return key
