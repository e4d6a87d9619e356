"""Serializer fields."""

from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A CharField that takes only JSON strings.

    DRF's CharField turns numbers into strings; for a document, ``"text": 12`` is a client
    bug worth a 400, not a summary of "12".
    """

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
