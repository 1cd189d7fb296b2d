"""Filter building blocks shared by every app's FilterSets (API-06/07)."""

import datetime
from typing import ClassVar

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from genxsop.errors import ValidationFailed

MAX_ID = 2**63 - 1


class CommaChoiceFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """`status=draft,submitted`: several allowed values, comma-separated; unknown values are 400."""


class CommaCharFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    pass


class _StrictBooleanField(forms.NullBooleanField):
    # NullBooleanField (through its select widget) reads any unknown word as "no filter", so
    # `is_active=maybe` would silently list everything; API-07 wants it refused.
    widget = forms.TextInput
    TRUE = frozenset({"true", "1", "yes"})
    FALSE = frozenset({"false", "0", "no"})

    def to_python(self, value):
        if isinstance(value, bool):
            return value
        text = "" if value is None else str(value).strip().lower()
        if not text:
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValidationError("Must be true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    """`true`/`false` (also 1/0, yes/no); any other value is 400 instead of being ignored."""

    field_class = _StrictBooleanField


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number within bigint range, so `1.5` or a 30-digit id is 400, not a miss or a 500."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class _UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise ValidationError("Out of range.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 instant, compared in UTC.

    Python accepts offsets up to ±23:59 but PostgreSQL only up to ±15:59, so a value such as
    `2026-01-01T00:00-19:00` would otherwise reach the database as is and fail there (a 500).
    """

    field_class = _UtcIsoDateTimeField


def day_bound(value, *, end: bool) -> str:
    """A bare date given for an instant bound means the start or the end of that day."""
    value = (value[0] if isinstance(value, list) else value or "").strip()
    if len(value) == 10:
        return f"{value}T23:59:59.999999" if end else f"{value}T00:00:00"
    return value


class AliasedFilterSet(django_filters.FilterSet):
    """A FilterSet reachable under query parameters other than its filter names.

    `param_aliases` maps a query parameter to the filter it feeds (`from` -> `occurred_from`, since
    `from` cannot be a Python attribute; spec names kept beside newer ones); the filter's own name
    still works and wins when both are sent. `day_bounds` names the filters whose bare `YYYY-MM-DD`
    value means the start (False) or the end (True) of that day. Errors are reported under the
    parameter the client sent (`sent_param`), never under a filter name it did not use.
    """

    param_aliases: ClassVar[dict[str, str]] = {}
    day_bounds: ClassVar[dict[str, bool]] = {}

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and self.param_aliases:
            data = data.copy() if hasattr(data, "copy") else dict(data)
            for alias, name in self.param_aliases.items():
                if alias in data and name not in data:
                    value = data[alias]
                    data[name] = day_bound(value, end=self.day_bounds[name]) if name in self.day_bounds else value
        super().__init__(data, *args, **kwargs)

    @classmethod
    def sent_param(cls, name: str, sent) -> str:
        """The query parameter among `sent` that fed the filter `name`."""
        if name in sent:
            return name
        return next((alias for alias, target in cls.param_aliases.items() if target == name and alias in sent), name)


def filter_queryset(filterset_class, data, queryset):
    """Apply a FilterSet or raise 400 with the field errors (bad enum values, dates, ordering), each
    under the query parameter the client sent."""
    filterset = filterset_class(data=data, queryset=queryset)
    if not filterset.is_valid():
        sent = set(data or ())
        rename = getattr(filterset_class, "sent_param", None)
        fields: dict[str, list[str]] = {}
        for name, msgs in filterset.errors.items():
            fields.setdefault(rename(name, sent) if rename else name, []).extend(str(m) for m in msgs)
        raise ValidationFailed("Invalid filter or ordering parameter.", fields=fields, code="INVALID_PARAMETER")
    return filterset.qs
