"""The FilterSet of publications (API-GOV-12), shared by the API list, the console history and exports."""

import django_filters

from genxsop.filters import CommaChoiceFilter
from governance.choices import Lane, PublicationStatus
from governance.models import Publication


class PublicationFilterSet(django_filters.FilterSet):
    lane = django_filters.ChoiceFilter(choices=Lane.choices)
    status = CommaChoiceFilter(choices=PublicationStatus.choices)
    # "from"/"to" are Python keywords: declared below. Bounds of the publishing day (UTC).

    class Meta:
        model = Publication
        fields = []


PublicationFilterSet.base_filters["from"] = django_filters.DateFilter(
    field_name="published_at", lookup_expr="date__gte", label="Published on or after (YYYY-MM-DD)"
)
PublicationFilterSet.base_filters["to"] = django_filters.DateFilter(
    field_name="published_at", lookup_expr="date__lte", label="Published on or before (YYYY-MM-DD)"
)
