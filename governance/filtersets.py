"""FilterSets of the governance app, shared by the API lists, console lists and exports."""

from typing import ClassVar

import django_filters
from django.db.models import Q

from genxsop.filters import AliasedFilterSet, IdFilter, UtcIsoDateTimeFilter
from governance.choices import (
    ACTION_ITEM_OPEN_STATUSES,
    ActionItemStatus,
    DecisionCategory,
    DecisionStatus,
    Source,
)
from governance.models import ActionItem, AuditEvent, Decision


class AuditEventFilterSet(AliasedFilterSet):
    """API-GOV-30/35 and the console audit log (UI-17)."""

    target_type = django_filters.CharFilter(lookup_expr="exact", label="Entity type (e.g. demand_plan)")
    target_id = django_filters.CharFilter(lookup_expr="exact", label="Entity id")
    actor_id = IdFilter(field_name="actor_id", label="Acting user id")
    actor = django_filters.CharFilter(field_name="actor_name", lookup_expr="icontains", label="Actor e-mail contains")
    event_type = django_filters.CharFilter(lookup_expr="startswith", label="Event type prefix")
    source = django_filters.ChoiceFilter(choices=Source.choices)
    request_id = django_filters.CharFilter(lookup_expr="exact")
    # `from`/`to` are Python keywords, hence the declared names.
    occurred_from = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte", label="from")
    occurred_to = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lte", label="to")
    search = django_filters.CharFilter(method="filter_search", label="Message, entity or actor contains")

    # Spec names kept as aliases (API-GOV-30): entity_type -> target_type, entity_id -> target_id, action -> event_type.
    param_aliases: ClassVar[dict[str, str]] = {
        "entity_type": "target_type",
        "entity_id": "target_id",
        "action": "event_type",
        "from": "occurred_from",
        "to": "occurred_to",
    }
    day_bounds: ClassVar[dict[str, bool]] = {"occurred_from": False, "occurred_to": True}

    class Meta:
        model = AuditEvent
        fields = ["target_type", "target_id", "actor_id", "event_type", "source", "request_id"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(message__icontains=value) | Q(target_repr__icontains=value) | Q(actor_name__icontains=value)
        )


class DecisionFilterSet(django_filters.FilterSet):
    """API-GOV-03 and the console decisions list."""

    cycle_id = IdFilter(field_name="cycle_id", label="Cycle id")
    category = django_filters.ChoiceFilter(choices=DecisionCategory.choices)
    status = django_filters.ChoiceFilter(choices=DecisionStatus.choices)
    # "from"/"to" are Python keywords: declared below.

    class Meta:
        model = Decision
        fields = []


DecisionFilterSet.base_filters["from"] = django_filters.DateFilter(field_name="decided_at", lookup_expr="date__gte",
                                                                   label="Decided on or after")  # fmt: skip
DecisionFilterSet.base_filters["to"] = django_filters.DateFilter(field_name="decided_at", lookup_expr="date__lte",
                                                                 label="Decided on or before")  # fmt: skip


class ActionItemFilterSet(django_filters.FilterSet):
    """API-GOV-01, API-SOP-15 and the console action items page."""

    owner_id = IdFilter(field_name="owner_id", label="Owner id")
    cycle_id = IdFilter(field_name="cycle_id", label="Cycle id")
    status = django_filters.ChoiceFilter(choices=ActionItemStatus.choices)
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Open and past due")

    class Meta:
        model = ActionItem
        fields = []

    def filter_overdue(self, queryset, name, value):
        from django.utils import timezone

        overdue = Q(status__in=ACTION_ITEM_OPEN_STATUSES, due_date__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
