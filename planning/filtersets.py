"""FilterSets of the planning app, shared by the API lists, console lists and exports."""

import django_filters
from django.db.models import Q

from genxsop.filters import CommaCharFilter, CommaChoiceFilter, IdFilter, StrictBooleanFilter
from planning.choices import AbcClass, DemandPlanStatus, LocationType, PlanSource, ProductStatus
from planning.models import DemandPlan, Location, Product


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


class DemandPlanFilterSet(django_filters.FilterSet):
    """API-DEM-01 filters. Current rows only unless `include_history=true`; default order `-period, sku`."""

    status = CommaChoiceFilter(choices=DemandPlanStatus.choices)
    source = CommaChoiceFilter(choices=PlanSource.choices)
    product_id = IdFilter(field_name="product_id")
    category_id = IdFilter(method="filter_category", label="Category (with its subtree)")
    region = CommaCharFilter(field_name="region")
    channel = CommaCharFilter(field_name="channel")
    period_from = django_filters.DateFilter(field_name="period", lookup_expr="gte", input_formats=PERIOD_INPUT_FORMATS)
    period_to = django_filters.DateFilter(field_name="period", lookup_expr="lte", input_formats=PERIOD_INPUT_FORMATS)
    search = django_filters.CharFilter(method="filter_search", label="SKU or product name contains")
    include_history = StrictBooleanFilter(method="filter_include_history", label="Also list history rows")
    ordering = django_filters.OrderingFilter(
        fields=(("period", "period"), ("product__sku", "sku"), ("product__name", "product_name"),
                ("region", "region"), ("channel", "channel"), ("status", "status"), ("version", "version"),
                ("forecast_qty", "forecast_qty"), ("updated_at", "updated_at"), ("created_at", "created_at")),
    )  # fmt: skip

    class Meta:
        model = DemandPlan
        fields = ["status", "source", "product_id", "region", "channel"]

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("include_history"):
            queryset = queryset.filter(is_current=True)
        return super().filter_queryset(queryset)

    def filter_include_history(self, queryset, name, value):
        return queryset  # applied in filter_queryset, because its default (false) must apply when absent

    def filter_category(self, queryset, name, value):
        return queryset.filter(
            Q(product__category_id=value)
            | Q(product__category__parent_id=value)
            | Q(product__category__parent__parent_id=value)
        )

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(product__name__icontains=value) | Q(product__sku__icontains=value))
