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
#: 1 to 255 printable ASCII characters, not starting or ending with a space (HTTP trims
#: those). Also the OpenAPI pattern of the header.
PATTERN = r"^[!-~]([ -~]*[!-~])?$"
MAX_LENGTH = 255
_VALID = re.compile(PATTERN)


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = f"This {HEADER} was already used for a different document."
    default_code = "idempotency_key_reused"


def idempotency_key(request: Request) -> str | None:
    """The request's key, ``None`` without one; a malformed key is a 400."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if len(key) > MAX_LENGTH or not _VALID.match(key):
        raise ValidationError(
            {HEADER: ["Must be 1 to 255 printable ASCII characters, without surrounding spaces."]},
            code="invalid",
        )
    return key
