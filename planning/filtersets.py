"""FilterSets of the planning app, shared by the API lists, console lists and exports."""

import django_filters
from django.db.models import Q

from genxsop.filters import CommaChoiceFilter, IdFilter, StrictBooleanFilter
from planning.choices import AbcClass, LocationType, ProductStatus
from planning.models import Location, Product


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
