"""The paginated envelope `{items, total, page, page_size, total_pages}` (API-05)."""

import math

from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from genxsop.errors import ValidationFailed

MAX_PAGE_SIZE = 100


def _positive_int(request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(
            f"{name} must be an integer.", fields={name: ["Must be an integer."]}, code="INVALID_PARAMETER"
        ) from None
    if value < 1 or (maximum is not None and value > maximum):
        bound = f"between 1 and {maximum}" if maximum else "at least 1"
        raise ValidationFailed(
            f"{name} must be {bound}.", fields={name: [f"Must be {bound}."]}, code="INVALID_PARAMETER"
        )
    return value


class EnvelopePagination(BasePagination):
    page_size = 20

    def paginate_queryset(self, queryset, request, view=None):
        self.page = _positive_int(request, "page", 1)
        self.page_size = _positive_int(request, "page_size", self.page_size, MAX_PAGE_SIZE)
        start = (self.page - 1) * self.page_size
        self.total, rows = self.count_and_slice(queryset, start, start + self.page_size)
        return rows

    def count_and_slice(self, queryset, start: int, stop: int) -> tuple[int, list]:
        """The exact row count of `queryset` and its rows `[start:stop)`; lists with a cheaper way override it."""
        total = queryset.count()
        return total, ([] if start >= total else list(queryset[start:stop]))

    def get_paginated_response(self, data):
        return Response(
            {
                "items": data,
                "total": self.total,
                "page": self.page,
                "page_size": self.page_size,
                "total_pages": math.ceil(self.total / self.page_size) if self.total else 0,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["items", "total", "page", "page_size", "total_pages"],
            "properties": {
                "items": schema,
                "total": {"type": "integer"},
                "page": {"type": "integer"},
                "page_size": {"type": "integer"},
                "total_pages": {"type": "integer"},
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
