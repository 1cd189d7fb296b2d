"""Filter building blocks shared by every app's FilterSets (API-06/07)."""

import django_filters

from genxsop.errors import ValidationFailed


class CommaChoiceFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """`status=draft,submitted`: several allowed values, comma-separated; unknown values are 400."""


class CommaCharFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    pass


def filter_queryset(filterset_class, data, queryset):
    """Apply a FilterSet or raise 400 with the field errors (bad enum values, dates, ordering)."""
    filterset = filterset_class(data=data, queryset=queryset)
    if not filterset.is_valid():
        fields = {name: [str(m) for m in msgs] for name, msgs in filterset.errors.items()}
        raise ValidationFailed("Invalid filter or ordering parameter.", fields=fields, code="INVALID_PARAMETER")
    return filterset.qs
