"""FilterSets of the planning app, shared by the API lists, console lists and exports."""

import datetime
from typing import ClassVar

import django_filters
from django import forms
from django.db.models import Q

from genxsop.errors import ValidationFailed
from genxsop.filters import (
    MAX_ID,
    AliasedFilterSet,
    CommaCharFilter,
    CommaChoiceFilter,
    IdFilter,
    StrictBooleanFilter,
    UtcIsoDateTimeFilter,
)
from planning.choices import (
    AbcClass,
    BatchChannel,
    BatchOperation,
    BatchStatus,
    GapStatus,
    LocationType,
    OutboundKind,
    OutboundStatus,
    PlanSource,
    PlanStatus,
    ProductStatus,
)
from planning.models import DemandPlan, IntegrationBatch, Location, OutboundMessage, Product, SupplyPlan


class ProductFilterSet(django_filters.FilterSet):
    status = CommaChoiceFilter(choices=ProductStatus.choices)
    category_id = IdFilter(method="filter_category", label="Category (with its subtree)")
    search = django_filters.CharFilter(method="filter_search", label="Name or SKU contains")
    product_family = django_filters.CharFilter(field_name="product_family", lookup_expr="iexact")
    abc_class = CommaChoiceFilter(choices=AbcClass.choices)
    ordering = django_filters.OrderingFilter(
        fields=(("sku", "sku"), ("name", "name"), ("status", "status"), ("product_family", "product_family"),
                ("unit_cost", "unit_cost"), ("selling_price", "selling_price"), ("lead_time_days", "lead_time_days"),
                ("created_at", "created_at"), ("updated_at", "updated_at"), ("category__name", "category")),
    )  # fmt: skip

    class Meta:
        model = Product
        fields = ["status", "category_id", "product_family", "abc_class"]

    def filter_category(self, queryset, name, value):
        # Three levels at most (PLN-01), so the subtree is the node, its children and grandchildren.
        return queryset.filter(
            Q(category_id=value) | Q(category__parent_id=value) | Q(category__parent__parent_id=value)
        )

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(sku__icontains=value))


class LocationFilterSet(django_filters.FilterSet):
    location_type = CommaChoiceFilter(choices=LocationType.choices)
    region = django_filters.CharFilter(lookup_expr="iexact")
    is_active = StrictBooleanFilter()
    search = django_filters.CharFilter(method="filter_search", label="Code or name contains")
    ordering = django_filters.OrderingFilter(
        fields=(("code", "code"), ("name", "name"), ("location_type", "location_type"), ("region", "region"))
    )

    class Meta:
        model = Location
        fields = ["location_type", "region", "is_active"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value)) if value else queryset


PERIOD_INPUT_FORMATS = ["%Y-%m-%d", "%Y-%m"]


def in_category_subtree(category_id: int, path: str = "product__category") -> Q:
    """Rows whose category is `category_id` or lies below it (three levels at most, PLN-01)."""
    return (Q(**{f"{path}_id": category_id}) | Q(**{f"{path}__parent_id": category_id})
            | Q(**{f"{path}__parent__parent_id": category_id}))  # fmt: skip


class PlanFilterSet(django_filters.FilterSet):
    """What demand and supply plan lists share: current rows only unless `include_history=true`,
    status, product, category subtree, period range and search. Default order `-period, sku`."""

    status = CommaChoiceFilter(choices=PlanStatus.choices)
    source = CommaChoiceFilter(choices=PlanSource.choices)
    product_id = IdFilter(field_name="product_id")
    category_id = IdFilter(method="filter_category", label="Category (with its subtree)")
    period_from = django_filters.DateFilter(field_name="period", lookup_expr="gte", input_formats=PERIOD_INPUT_FORMATS)
    period_to = django_filters.DateFilter(field_name="period", lookup_expr="lte", input_formats=PERIOD_INPUT_FORMATS)
    search = django_filters.CharFilter(method="filter_search", label="SKU or product name contains")
    include_history = StrictBooleanFilter(method="filter_include_history", label="Also list history rows")

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("include_history"):
            queryset = queryset.filter(is_current=True)
        return super().filter_queryset(queryset)

    def filter_include_history(self, queryset, name, value):
        return queryset  # applied in filter_queryset, because its default (false) must apply when absent

    def filter_category(self, queryset, name, value):
        return queryset.filter(in_category_subtree(value))

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(product__name__icontains=value) | Q(product__sku__icontains=value))


_PLAN_ORDERING = (("period", "period"), ("product__sku", "sku"), ("product__name", "product_name"),
                  ("status", "status"), ("version", "version"), ("updated_at", "updated_at"),
                  ("created_at", "created_at"))  # fmt: skip


class DemandPlanFilterSet(PlanFilterSet):
    """API-DEM-01 filters."""

    region = CommaCharFilter(field_name="region")
    channel = CommaCharFilter(field_name="channel")
    ordering = django_filters.OrderingFilter(
        fields=(*_PLAN_ORDERING, ("region", "region"), ("channel", "channel"), ("forecast_qty", "forecast_qty")),
    )

    class Meta:
        model = DemandPlan
        fields = ["status", "source", "product_id", "region", "channel"]


class SupplyPlanFilterSet(PlanFilterSet):
    """API-SUP-01 filters; `location` takes location codes (comma-separated)."""

    location = CommaCharFilter(field_name="location__code", label="Location codes")
    ordering = django_filters.OrderingFilter(
        fields=(*_PLAN_ORDERING, ("location__code", "location"), ("planned_prod_qty", "planned_prod_qty"),
                ("capacity_max", "capacity_max")),
    )  # fmt: skip

    class Meta:
        model = SupplyPlan
        fields = ["status", "source", "product_id", "location"]


def parse_month(value: str, name: str = "period") -> datetime.date:
    """CNV-01: `YYYY-MM` or `YYYY-MM-DD` as the first of its month; anything else is 400."""
    for fmt in PERIOD_INPUT_FORMATS:
        try:
            return datetime.datetime.strptime(value.strip(), fmt).date().replace(day=1)  # noqa: DTZ007 (a date)
        except ValueError:
            continue
    raise ValidationFailed("Invalid query parameter.", fields={name: ["Use YYYY-MM-DD or YYYY-MM."]},
                           code="INVALID_PARAMETER")  # fmt: skip


class ParamsForm(forms.Form):
    """Query parameters of a read that is not a list (gap analysis, demand history): typed, 400 when bad."""

    def cleaned(self) -> dict:
        if not self.is_valid():
            fields = {name: [str(m) for m in msgs] for name, msgs in self.errors.items()}
            raise ValidationFailed("Invalid query parameter.", fields=fields, code="INVALID_PARAMETER")
        return self.cleaned_data


GAP_MAX_PERIODS = 24


class GapAnalysisParams(ParamsForm):
    """API-SUP-15: `period` (default the current month), `period_to` (at most 24 periods), product,
    category subtree and gap status filters."""

    period = forms.CharField(required=False)
    period_to = forms.CharField(required=False)
    product_id = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    category_id = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    status = forms.CharField(required=False)

    def __init__(self, data=None, *, today=None):
        super().__init__(data or {})
        self.today = today

    def clean(self):
        data = super().clean()
        raw = (data.get("period") or "").strip()
        start = parse_month(raw, "period") if raw else self.today.replace(day=1)
        raw_to = (data.get("period_to") or "").strip()
        end = parse_month(raw_to, "period_to") if raw_to else start
        if end < start:
            self.add_error("period_to", "Must not be before period.")
        elif (end.year - start.year) * 12 + end.month - start.month + 1 > GAP_MAX_PERIODS:
            self.add_error("period_to", f"At most {GAP_MAX_PERIODS} periods.")
        statuses = [s.strip() for s in (data.get("status") or "").split(",") if s.strip()]
        unknown = [s for s in statuses if s not in GapStatus.values]
        if unknown:
            self.add_error("status", f"Unknown status {unknown[0]!r}; use {', '.join(GapStatus.values)}.")
        data.update(period=start, period_to=end, status=statuses)
        return data


class DemandHistoryParams(ParamsForm):
    """API-DEM-16: `product_id` (required), the series key (omitted = product total), `months`, `only_actuals`."""

    product_id = forms.IntegerField(min_value=1, max_value=MAX_ID)
    region = forms.CharField(required=False, max_length=100)
    channel = forms.CharField(required=False, max_length=100)
    months = forms.IntegerField(required=False, min_value=1, max_value=120)
    only_actuals = StrictBooleanFilter.field_class(required=False)

    def clean(self):
        data = super().clean()
        data["months"] = data.get("months") or 24
        data["only_actuals"] = bool(data.get("only_actuals"))
        return data


class IntegrationBatchFilterSet(AliasedFilterSet):
    """API-INT-10 and the console batch list."""

    operation = CommaChoiceFilter(choices=BatchOperation.choices)
    status = CommaChoiceFilter(choices=BatchStatus.choices)
    channel = CommaChoiceFilter(choices=BatchChannel.choices)
    source_system = django_filters.CharFilter(lookup_expr="iexact")
    # `from`/`to` are Python keywords, hence the declared names.
    created_from = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte", label="from")
    created_to = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lte", label="to")
    search = django_filters.CharFilter(method="filter_search", label="Source system, batch id or file name contains")

    param_aliases: ClassVar[dict[str, str]] = {"from": "created_from", "to": "created_to"}
    day_bounds: ClassVar[dict[str, bool]] = {"created_from": False, "created_to": True}

    class Meta:
        model = IntegrationBatch
        fields = ["operation", "status", "channel", "source_system"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(source_system__icontains=value) | Q(batch_id__icontains=value) | Q(file_name__icontains=value)
        )


class OutboundMessageFilterSet(django_filters.FilterSet):
    """API-INT-07: pending messages unless another status is asked for."""

    status = CommaChoiceFilter(choices=OutboundStatus.choices)
    target_system = django_filters.CharFilter(lookup_expr="iexact")
    kind = CommaChoiceFilter(choices=OutboundKind.choices)

    class Meta:
        model = OutboundMessage
        fields = ["status", "target_system", "kind"]

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(status=OutboundStatus.PENDING)
        return super().filter_queryset(queryset)
