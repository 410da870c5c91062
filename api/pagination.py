"""Keyset paging for every list: no COUNT(*), stable under inserts, index-backed.

Every ordering here is on a unique integer column (id, or depth along one
chain of ancestors), so a cursor's position is a number: anything else is a
tampered cursor and gets the same 404 as an undecodable one.
"""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

_BIGINT = 2**63


class IdCursorPagination(CursorPagination):
    """Pages in id order (joining order for members); follow `next` and `previous`."""

    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                position = int(cursor.position)
            except (TypeError, ValueError):
                raise NotFound(self.invalid_cursor_message) from None
            if not 0 <= position < _BIGINT:
                raise NotFound(self.invalid_cursor_message)
        return cursor


class NewestFirstPagination(IdCursorPagination):
    ordering = "-id"


class DepthPagination(IdCursorPagination):
    """A member's ancestors from the root down: depth is unique along one chain."""

    ordering = "depth"
