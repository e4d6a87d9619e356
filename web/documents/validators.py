"""Field validators for text that must reach PostgreSQL intact."""

from rest_framework import serializers


def encodable_as_utf8(value: str) -> None:
    """Reject lone surrogates (``"\\ud800"`` is valid JSON), which PostgreSQL cannot store."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise serializers.ValidationError(
            "Must be valid Unicode text; lone surrogate code points are not allowed."
        ) from None
