"""The base of every entity's viewset: reads through the entity's selectors; writes are the subclass's.

A subclass of ServiceViewSet names:
- `list_selector = staticmethod(selectors.<entity>_list)`. With a `filterset_class` the selector
  is given the query string as `filters` and applies the FilterSet itself, so the console and
  exports filter the same way; the filter backend only documents the parameters.
- `get_selector = staticmethod(selectors.<entity>_get)`: an id outside the caller's scope is 404.
- `serializer_class` for list rows and `detail_serializer_class` (default: the same) for one object.
- `action_permissions`: the permission each action needs (see HasActionPermission).
Then it adds its writes (`create`, `update` with `partial_update` calling it, `destroy`, actions),
each validating the body, calling one service and answering through `_render`.
"""

import re

from rest_framework import status, viewsets
from rest_framework.response import Response

from genxsop.api.filters import FilterSetSchemaBackend
from genxsop.api.permissions import HasActionPermission
from genxsop.errors import ValidationFailed


# No class docstring: drf-spectacular would show it as the description of every subclass without one.
class ServiceViewSet(viewsets.GenericViewSet):
    permission_classes = [HasActionPermission]
    filter_backends = [FilterSetSchemaBackend]
    filterset_class = None
    lookup_value_regex = r"\d+"
    action_permissions: dict[str, str] = {}
    list_selector = None
    get_selector = None
    detail_serializer_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation runs without a real caller
            return self.get_serializer_class().Meta.model.objects.none()
        if self.filterset_class is None:
            return self.list_selector(user=self.request.user)
        return self.list_selector(user=self.request.user, filters=self.request.query_params)

    def get_object(self):
        return self.get_selector(user=self.request.user, pk=self.kwargs[self.lookup_url_kwarg or self.lookup_field])

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk):
        return self._render(self.get_object())

    def _render(self, instance, status_code=status.HTTP_200_OK) -> Response:
        serializer_class = self.detail_serializer_class or self.serializer_class
        return Response(serializer_class(instance, context=self.get_serializer_context()).data, status=status_code)


_ETAG_RE = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


class VersionedRowMixin:
    """Optimistic concurrency (WF-05) for rows with a `version`: the detail carries `ETag: W/"<version>"`,
    and writes read the expected version from `If-Match` or the body's `expected_version`."""

    def _render(self, instance, status_code=status.HTTP_200_OK) -> Response:
        response = super()._render(instance, status_code)
        response["ETag"] = f'W/"{instance.version}"'
        return response

    def _expected_version(self, data: dict) -> int | None:
        """`expected_version` in the body or `If-Match`; both given and different is 400."""
        header = self.request.headers.get("If-Match")
        from_header = None
        if header:
            match = _ETAG_RE.match(header)
            if not match:
                raise ValidationFailed('If-Match must be the ETag of the row, e.g. W/"3".', code="INVALID_PARAMETER")
            from_header = int(match.group(1))
        from_body = data.pop("expected_version", None)
        if from_header is not None and from_body is not None and from_header != from_body:
            raise ValidationFailed(fields={"expected_version": ["Disagrees with the If-Match header."]})
        return from_body if from_body is not None else from_header
