"""Consensus reads (API-FC-27…29, 37): rows scoped to the caller's category scope."""

import django_filters
from django.db.models import Q, QuerySet

from forecasting.choices import ConsensusStatus
from forecasting.models import ForecastConsensus
from forecasting.services.consensus import CONSENSUS_CONTENT_FIELDS
from genxsop.errors import NotFound
from genxsop.filters import CommaChoiceFilter, IdFilter, StrictBooleanFilter, filter_queryset
from genxsop.row_limits import require_within_row_limit
from planning.filtersets import PERIOD_INPUT_FORMATS

__all__ = ["ConsensusFilterSet", "consensus_get", "consensus_list", "consensus_versions"]

_USERS = ("proposed_by", "approved_by", "created_by", "updated_by")


class ConsensusFilterSet(django_filters.FilterSet):
    """API-FC-27 filters: current rows unless `include_history=true`; ordered period asc, version desc."""

    product_id = IdFilter(field_name="product_id")
    region = django_filters.CharFilter(field_name="region")
    channel = django_filters.CharFilter(field_name="channel")
    forecast_run_audit_id = IdFilter(field_name="forecast_run_id", label="Forecast run id")
    status = CommaChoiceFilter(choices=ConsensusStatus.choices)
    period_from = django_filters.DateFilter(field_name="period", lookup_expr="gte", input_formats=PERIOD_INPUT_FORMATS)
    period_to = django_filters.DateFilter(field_name="period", lookup_expr="lte", input_formats=PERIOD_INPUT_FORMATS)
    include_history = StrictBooleanFilter(method="filter_include_history", label="Also list history rows")

    class Meta:
        model = ForecastConsensus
        fields = ["product_id", "region", "channel", "status"]

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("include_history"):
            queryset = queryset.filter(is_current=True)
        return super().filter_queryset(queryset)

    def filter_include_history(self, queryset, name, value):
        return queryset  # applied in filter_queryset: its default (false) must apply when absent


def _rows(user) -> QuerySet[ForecastConsensus]:
    return ForecastConsensus.objects.for_user(user).select_related("product", *_USERS)


def _list_rows(user) -> QuerySet[ForecastConsensus]:
    # A list repeats a few products and users on every row. Joined, each row built its own product and
    # four user instances (a third of the list's CPU); prefetched, each is built once and shared.
    return ForecastConsensus.objects.for_user(user).prefetch_related("product", *_USERS)


def consensus_list(*, user, filters: dict | None = None, limit: int | None = None) -> QuerySet[ForecastConsensus]:
    """API-FC-27: rows in the caller's scope, period ascending, version descending.

    With `limit`, more matching rows than that is 400: the caller must narrow the filters.
    """
    queryset = filter_queryset(ConsensusFilterSet, filters or {}, _list_rows(user))
    queryset = queryset.order_by("period", "-version", "pk")
    if limit is not None:
        require_within_row_limit(
            queryset,
            rows="consensus rows",
            limit=limit,
            narrow_with="product_id, period_from, period_to, status or forecast_run_audit_id",
        )
    return queryset


def consensus_get(*, user, pk) -> ForecastConsensus:
    """A live or history row in the caller's scope; anything else is 404 (ACC-11)."""
    try:
        return _rows(user).get(pk=pk)
    except (ForecastConsensus.DoesNotExist, ValueError, TypeError):
        raise NotFound("Consensus not found.") from None


_VERSION_FIELDS = [*CONSENSUS_CONTENT_FIELDS, "pre_consensus_qty", "final_consensus_qty"]


def consensus_versions(*, user, pk) -> list[dict]:
    """Every version of a consensus (live row and history rows), newest first, with `changed_fields`
    relative to the previous version. `pk` may name a history row."""
    row = consensus_get(user=user, pk=pk)
    live_id = row.history_of_id or row.pk
    rows = list(
        ForecastConsensus.objects.filter(Q(pk=live_id) | Q(history_of_id=live_id))
        .select_related("updated_by", "created_by")
        .order_by("-version")
    )
    out = []
    for index, version in enumerate(rows):
        previous = rows[index + 1] if index + 1 < len(rows) else None
        changed = [f for f in _VERSION_FIELDS if previous is None or getattr(previous, f) != getattr(version, f)]
        author = version.updated_by or version.created_by
        out.append({
            "id": version.pk, "version": version.version, "is_current": version.is_current,
            **{f: getattr(version, f) for f in _VERSION_FIELDS}, "status_at_version": version.status,
            "changed_fields": changed, "changed_by": author.pk if author else None,
            "changed_by_name": author.full_name if author else None, "changed_at": version.updated_at,
        })  # fmt: skip
    return out
