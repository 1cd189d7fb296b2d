"""Read paths for forecast runs and their result rows (API-FC-11…14, 36): scoped to the caller.

`result_list` answers "what is the forecast now": by default only the rows of the latest
non-discarded run per series and model (FC-60), found with one grouped subquery.
"""

import django_filters
from django.db.models import Max, Prefetch, QuerySet

from forecasting.models import Forecast, ForecastRun
from genxsop.errors import NotFound, ValidationFailed
from genxsop.filters import CommaCharFilter, IdFilter, StrictBooleanFilter, filter_queryset
from genxsop.row_limits import require_within_row_limit

__all__ = [
    "ResultFilterSet",
    "RunFilterSet",
    "result_get",
    "result_list",
    "run_get",
    "run_list",
]

_PERIOD_FORMATS = ["%Y-%m-%d", "%Y-%m"]


class RunFilterSet(django_filters.FilterSet):
    """API-FC-11 filters; default order `-created_at`."""

    product_id = IdFilter(field_name="product_id")
    region = django_filters.CharFilter(field_name="region")
    channel = django_filters.CharFilter(field_name="channel")
    as_of_from = django_filters.DateFilter(field_name="as_of_period", lookup_expr="gte", input_formats=_PERIOD_FORMATS)
    as_of_to = django_filters.DateFilter(field_name="as_of_period", lookup_expr="lte", input_formats=_PERIOD_FORMATS)
    model = CommaCharFilter(field_name="model_used", lookup_expr="in", label="Model used, comma-separated")
    fallback_used = StrictBooleanFilter(field_name="fallback_used")
    source = CommaCharFilter(field_name="source", lookup_expr="in", label="Source(s), comma-separated")
    ordering = django_filters.OrderingFilter(
        fields=(("created_at", "created_at"), ("as_of_period", "as_of_period"), ("product__sku", "sku"),
                ("model_used", "model_used"), ("id", "id")),
    )  # fmt: skip

    class Meta:
        model = ForecastRun
        fields = ["product_id", "region", "channel", "fallback_used"]


class ResultFilterSet(django_filters.FilterSet):
    """API-FC-13 filters (`current_only` and `include_discarded` are applied by result_list)."""

    product_id = IdFilter(field_name="product_id")
    region = django_filters.CharFilter(field_name="region")
    channel = django_filters.CharFilter(field_name="channel")
    model_type = CommaCharFilter(field_name="model_type", lookup_expr="in", label="Model(s), comma-separated")
    period_from = django_filters.DateFilter(field_name="period", lookup_expr="gte", input_formats=_PERIOD_FORMATS)
    period_to = django_filters.DateFilter(field_name="period", lookup_expr="lte", input_formats=_PERIOD_FORMATS)
    run_id = IdFilter(field_name="run_id")
    current_only = StrictBooleanFilter(
        method="filter_noop", label="Only the latest non-discarded run per series and model (default true; "
        "default false when run_id is given)"
    )  # fmt: skip
    include_discarded = StrictBooleanFilter(method="filter_noop", label="Include discarded rows (default false)")

    class Meta:
        model = Forecast
        fields = ["product_id", "region", "channel", "run_id"]

    def filter_noop(self, queryset, name, value):
        return queryset


def _runs(user) -> QuerySet[ForecastRun]:
    return ForecastRun.objects.for_user(user).select_related("product", "user", "job")


def run_list(*, user, filters: dict | None = None) -> QuerySet[ForecastRun]:
    """Runs in the caller's scope, newest first."""
    return filter_queryset(RunFilterSet, filters or {}, _runs(user).order_by("-created_at", "-id"))


def run_get(*, user, pk) -> ForecastRun:
    try:
        return _runs(user).get(pk=pk)
    except (ForecastRun.DoesNotExist, ValueError, TypeError):
        raise NotFound("Forecast run not found.") from None


def _flag(filters, name: str, default: bool) -> bool:
    raw = filters.get(name) if filters else None
    if raw is None or raw == "":
        return default
    value = str(raw).strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise ValidationFailed(f"{name} must be true or false.", fields={name: ["Must be true or false."]},
                           code="INVALID_PARAMETER")  # fmt: skip


def _results(user) -> QuerySet[Forecast]:
    return Forecast.objects.for_user(user).select_related("run", "product")


def _result_rows(user) -> QuerySet[Forecast]:
    # A run has a row per period and model: joined, every row built its own run and product and decoded
    # the run's JSON documents again. Prefetched, each run and product is built once; the backtest table
    # and the other run documents a result row never shows are not read.
    runs = ForecastRun.objects.defer("candidate_metrics", "data_quality_flags", "fallback_chain")
    return Forecast.objects.for_user(user).prefetch_related("product", Prefetch("run", queryset=runs))


def result_list(*, user, filters: dict | None = None, limit: int | str | None = "default") -> QuerySet[Forecast]:
    """API-FC-13: result rows in the caller's scope ordered by period.

    `current_only` (default true, false when `run_id` is given) keeps the rows of the latest
    non-discarded run per series and model; discarded rows are left out unless `include_discarded`.
    More than `limit` rows (default API_LIST_MAX_ROWS; None: no limit) is 400: the caller must narrow the filters.
    """
    filters = filters or {}
    queryset = filter_queryset(ResultFilterSet, filters, _result_rows(user))
    if not _flag(filters, "include_discarded", False):
        queryset = queryset.filter(discarded_at__isnull=True)
    if _flag(filters, "current_only", not filters.get("run_id")):
        latest = ForecastRun.objects.for_user(user).filter(discarded_at__isnull=True)
        product = str(filters.get("product_id") or "").strip()
        if product.isdigit():  # validated above; narrows the grouped subquery to the product
            latest = latest.filter(product_id=int(product))
        latest = (
            latest.order_by()
            .values("product_id", "region", "channel", "model_used")
            .annotate(latest=Max("id"))
            .values("latest")
        )
        queryset = queryset.filter(run_id__in=latest)
    queryset = queryset.order_by("period", "product_id", "region", "channel", "model_type", "run_id", "id")
    if limit is not None:
        require_within_row_limit(queryset, rows="result rows", limit=None if limit == "default" else limit,
                                 narrow_with="product_id, period_from, period_to, model_type or run_id")  # fmt: skip
    return queryset


def result_get(*, user, pk) -> Forecast:
    try:
        return _results(user).get(pk=pk)
    except (Forecast.DoesNotExist, ValueError, TypeError):
        raise NotFound("Forecast result not found.") from None
