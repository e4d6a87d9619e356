"""Cursor pagination on the creation time."""

from rest_framework.pagination import CursorPagination


class CreatedCursorPagination(CursorPagination):
    """Newest first, by ``created``: set once, never changed, indexed with the owner.

    Cursors stay stable while new documents arrive, unlike page numbers.
    """

    ordering = "-created"
    # Clients may ask for smaller or larger pages, up to max_page_size.
    page_size_query_param = "page_size"
    max_page_size = 100
