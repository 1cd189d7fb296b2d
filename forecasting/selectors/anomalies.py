"""Anomaly reads (API-FC-24): rows scoped to the caller's category scope."""

import django_filters
from django.db.models import QuerySet

from forecasting.choices import AnomalySeverity, AnomalyStatus
from forecasting.models import ForecastAnomaly
from genxsop.errors import NotFound
from genxsop.filters import CommaChoiceFilter, IdFilter, filter_queryset
from planning.filtersets import PERIOD_INPUT_FORMATS

__all__ = ["AnomalyFilterSet", "anomaly_get", "anomaly_list"]


class AnomalyFilterSet(django_filters.FilterSet):
    product_id = IdFilter(field_name="product_id")
    status = CommaChoiceFilter(choices=AnomalyStatus.choices)
    severity = CommaChoiceFilter(choices=AnomalySeverity.choices)
    period_from = django_filters.DateFilter(field_name="period", lookup_expr="gte", input_formats=PERIOD_INPUT_FORMATS)
    period_to = django_filters.DateFilter(field_name="period", lookup_expr="lte", input_formats=PERIOD_INPUT_FORMATS)

    class Meta:
        model = ForecastAnomaly
        fields = ["product_id", "status", "severity"]


def _rows(user) -> QuerySet[ForecastAnomaly]:
    return ForecastAnomaly.objects.for_user(user).select_related("product", "job")


def anomaly_list(*, user, filters: dict | None = None) -> QuerySet[ForecastAnomaly]:
    """Newest period first, then product."""
    return filter_queryset(AnomalyFilterSet, filters or {}, _rows(user)).order_by(
        "-period", "product_id", "method", "pk"
    )


def anomaly_get(*, user, pk) -> ForecastAnomaly:
    try:
        return _rows(user).get(pk=pk)
    except (ForecastAnomaly.DoesNotExist, ValueError, TypeError):
        raise NotFound("Anomaly not found.") from None
