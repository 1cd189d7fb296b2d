"""The row limit of the list endpoints that answer a plain array (API-FC-13, API-FC-27, API-INV-08).

Those lists have no pages, so one unfiltered request would otherwise read, serialise and send every
row in the caller's scope. Above `API_LIST_MAX_ROWS` matching rows they answer 400 INVALID_PARAMETER
and the caller narrows the filters; the exports of the same rows stream instead and are not limited.
"""

from django.conf import settings
from django.db.models import QuerySet

from genxsop.errors import ValidationFailed

__all__ = ["list_max_rows", "require_within_row_limit"]


def list_max_rows() -> int:
    return settings.API_LIST_MAX_ROWS


def require_within_row_limit(queryset: QuerySet, *, rows: str, narrow_with: str, limit: int | None = None) -> None:
    """400 INVALID_PARAMETER when `queryset` matches more than `limit` rows (default API_LIST_MAX_ROWS).

    The count stops at `limit + 1`: a request far above the limit costs no more than one just above it.
    `rows` names the rows in the message ("consensus rows"), `narrow_with` the filters that narrow them.
    """
    limit = list_max_rows() if limit is None else limit
    if queryset.order_by()[: limit + 1].count() > limit:
        raise ValidationFailed(
            f"The filters match more than {limit:,} {rows}; narrow them ({narrow_with}).",
            code="INVALID_PARAMETER",
            context={"limit": limit},
        )
