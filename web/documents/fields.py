"""Serializer fields."""

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

#: What the field accepts beyond its length, for the OpenAPI schema: at least one
#: non-space character (DRF trims, then refuses blanks) and no NUL (PostgreSQL cannot store
#: it). Enforced by DRF's own linear-time checks, not by this regex.
PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"


class StrictCharField(serializers.CharField):
    """A CharField that takes only JSON strings, and counts their length as sent.

    DRF's CharField turns numbers into strings; for a document, ``"text": 12`` is a client
    bug worth a 400, not a summary of "12". It checks ``max_length`` after trimming
    whitespace, so a value longer than the documented ``maxLength`` could pass. And its NUL
    and blank checks are invisible in the schema; this field states them as a ``pattern``.
    """

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictCharFieldSchema(OpenApiSerializerFieldExtension):
    """Documents StrictCharField: the usual string schema, plus :data:`PATTERN`."""

    target_class = StrictCharField

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "pattern": PATTERN}
