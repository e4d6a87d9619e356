"""The API's only request parser: JSON, refusing bodies nested too deep to parse."""

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser, but ``[[[[...`` a few thousand deep is a 400, not a 500: Python's
    json module raises RecursionError there, which DRF does not catch."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
