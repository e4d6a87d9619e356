"""Cursor pagination on the creation time."""

from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request


class CreatedCursorPagination(CursorPagination):
    """Newest first, by ``created``: set once, never changed, indexed with the owner.

    Cursors stay stable while new documents arrive, unlike page numbers.
    """

    ordering = "-created"
    # Clients may ask for smaller or larger pages, up to max_page_size.
    page_size_query_param = "page_size"
    max_page_size = 100
    #: REST_FRAMEWORK["PAGE_SIZE"], which the settings always set.
    page_size: int

    def get_page_size(self, request: Request) -> int:
        """The requested page size; out of range or not a number is a 400, as documented,
        rather than DRF's silent fallback."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"Must be an integer from 1 to {self.max_page_size}."
                    ]
                }
            )
        return size

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters

    def decode_cursor(self, request: Request) -> Cursor | None:
        """DRF's decoding, plus a check that the position is a timestamp: a crafted cursor
        is a 404 like any other bad cursor, not a database error."""
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                # The stubs type the position as an int; this pagination writes timestamps.
                valid = parse_datetime(cursor.position) is not None  # type: ignore[arg-type]
            except ValueError:
                valid = False
            if not valid:
                raise NotFound(self.invalid_cursor_message)
        return cursor
