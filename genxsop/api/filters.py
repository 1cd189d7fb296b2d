"""Filter plumbing of the API views."""

from django_filters.rest_framework import DjangoFilterBackend


class FilterSetSchemaBackend(DjangoFilterBackend):
    """Documents the view's `filterset_class` in the OpenAPI schema and filters nothing.

    Selectors apply the FilterSet themselves (so the console and exports filter the same way);
    running it a second time here would only repeat the work.
    """

    def filter_queryset(self, request, queryset, view):
        return queryset
