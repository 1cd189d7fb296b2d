"""Catalog API (API-PROD-01…10, API-LOC-01…05): thin adapters over planning.selectors and planning.services."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from genxsop.api.schema import ID_PARAMETER, READ_ERRORS, WRITE_ERRORS, error_responses
from genxsop.api.validation import validated_body, validated_query
from genxsop.api.viewsets import ServiceViewSet
from genxsop.errors import NotFound, ValidationFailed
from planning import permissions as perms
from planning import selectors, services
from planning.api import serializers as s
from planning.filtersets import LocationFilterSet, ProductFilterSet
from planning.models import Category


def _category_ref(user, pk, field: str) -> Category | None:
    """The category a body refers to; an unknown id is a bad value in the body (400), not a missing page."""
    if pk is None:
        return None
    try:
        return selectors.category_get(user=user, pk=pk)
    except NotFound:
        raise ValidationFailed(fields={field: [f"Category {pk} does not exist."]}) from None


# Categories -------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List categories",
        parameters=[s.CategoryListQuerySerializer],
        responses={200: s.CategoryNodeSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="Get a category",
        parameters=[ID_PARAMETER],
        responses={200: s.CategorySerializer, **error_responses(*READ_ERRORS, 404)},
    ),
    create=extend_schema(
        summary="Create a category",
        request=s.CategoryCreateInputSerializer,
        responses={201: s.CategorySerializer, **error_responses(*WRITE_ERRORS, 409)},
    ),
    update=extend_schema(
        summary="Update a category",
        parameters=[ID_PARAMETER],
        request=s.CategoryUpdateInputSerializer,
        responses={200: s.CategorySerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    ),
    partial_update=extend_schema(
        summary="Update a category",
        parameters=[ID_PARAMETER],
        request=s.CategoryUpdateInputSerializer,
        responses={200: s.CategorySerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
    ),
    destroy=extend_schema(
        summary="Delete an empty category",
        parameters=[ID_PARAMETER],
        responses={204: None, **error_responses(*READ_ERRORS, 404, 409)},
    ),
)
class CategoryViewSet(ServiceViewSet):
    """Product categories, at most three levels deep (PLN-01)."""

    pagination_class = None
    list_selector = staticmethod(selectors.category_list)
    get_selector = staticmethod(selectors.category_get)
    serializer_class = s.CategorySerializer
    action_permissions = {
        "list": perms.VIEW_CATEGORY,
        "retrieve": perms.VIEW_CATEGORY,
        "create": perms.ADD_CATEGORY,
        "update": perms.CHANGE_CATEGORY,
        "partial_update": perms.CHANGE_CATEGORY,
        "destroy": perms.DELETE_CATEGORY,
    }

    def list(self, request):
        if validated_query(s.CategoryListQuerySerializer, request)["tree"]:
            return Response(selectors.category_tree(user=request.user))
        return Response(s.CategorySerializer(self.get_queryset(), many=True).data)

    def create(self, request):
        data = validated_body(s.CategoryCreateInputSerializer, request.data)
        category = services.category_create(
            actor=request.user,
            name=data["name"],
            parent=_category_ref(request.user, data.get("parent_id"), "parent_id"),
            description=data.get("description", ""),
            level=data.get("level"),
        )
        # Read back through the selector for the annotated product_count.
        return self._render(selectors.category_get(user=request.user, pk=category.pk), status.HTTP_201_CREATED)

    def update(self, request, pk):
        category = self.get_object()
        data = validated_body(s.CategoryUpdateInputSerializer, request.data)
        if "parent_id" in data:
            data["parent"] = _category_ref(request.user, data.pop("parent_id"), "parent_id")
        services.category_update(actor=request.user, category=category, data=data)
        return self._render(selectors.category_get(user=request.user, pk=category.pk))

    def partial_update(self, request, pk):
        return self.update(request, pk)

    def destroy(self, request, pk):
        services.category_delete(actor=request.user, category=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# Products ---------------------------------------------------------------------

_PRODUCT_WRITE = {200: s.ProductDetailSerializer, **error_responses(*WRITE_ERRORS, 404, 409)}
_PRODUCT_ACTION = {200: s.ProductDetailSerializer, **error_responses(*READ_ERRORS, 400, 404, 409)}


@extend_schema_view(
    list=extend_schema(
        summary="List products",
        description="Default order `sku`. `category_id` includes the category's whole subtree.",
        responses={200: s.ProductSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="Get a product",
        parameters=[ID_PARAMETER],
        responses={200: s.ProductDetailSerializer, **error_responses(*READ_ERRORS, 404)},
    ),
    create=extend_schema(
        summary="Create a product",
        request=s.ProductCreateInputSerializer,
        responses={201: s.ProductDetailSerializer, **error_responses(*WRITE_ERRORS, 409)},
    ),
    update=extend_schema(
        summary="Update a product",
        description="Partial, like PATCH. The SKU cannot change; status changes use the action endpoints.",
        parameters=[ID_PARAMETER],
        request=s.ProductUpdateInputSerializer,
        responses=_PRODUCT_WRITE,
    ),
    partial_update=extend_schema(
        summary="Update a product",
        description="The SKU cannot change; status changes use the action endpoints.",
        parameters=[ID_PARAMETER],
        request=s.ProductUpdateInputSerializer,
        responses=_PRODUCT_WRITE,
    ),
    destroy=extend_schema(
        summary="Discontinue a product",
        description="Products are never deleted: this sets the status to `discontinued`.",
        parameters=[ID_PARAMETER],
        responses={200: s.MessageSerializer, **error_responses(*READ_ERRORS, 404, 409)},
    ),
    discontinue=extend_schema(
        summary="Discontinue a product",
        parameters=[ID_PARAMETER],
        request=s.ProductActionInputSerializer,
        responses=_PRODUCT_ACTION,
    ),
    activate=extend_schema(
        summary="Activate a new or discontinued product",
        parameters=[ID_PARAMETER],
        request=s.ProductActionInputSerializer,
        responses=_PRODUCT_ACTION,
    ),
)
class ProductViewSet(ServiceViewSet):
    """Products (PLN-02)."""

    list_selector = staticmethod(selectors.product_list)
    get_selector = staticmethod(selectors.product_get)
    serializer_class = s.ProductSerializer
    detail_serializer_class = s.ProductDetailSerializer
    filterset_class = ProductFilterSet
    action_permissions = {
        "list": perms.VIEW_PRODUCT,
        "retrieve": perms.VIEW_PRODUCT,
        "create": perms.ADD_PRODUCT,
        "update": perms.CHANGE_PRODUCT,
        "partial_update": perms.CHANGE_PRODUCT,
        "destroy": perms.DISCONTINUE_PRODUCT,
        "discontinue": perms.DISCONTINUE_PRODUCT,
        "activate": perms.DISCONTINUE_PRODUCT,
    }

    def _product_data(self, data: dict) -> dict:
        if "category_id" in data:
            data["category"] = _category_ref(self.request.user, data.pop("category_id"), "category_id")
        return data

    def create(self, request):
        data = self._product_data(validated_body(s.ProductCreateInputSerializer, request.data))
        product = services.product_create(actor=request.user, data=data)
        return self._render(product, status.HTTP_201_CREATED)

    def update(self, request, pk):
        product = self.get_object()
        data = self._product_data(validated_body(s.ProductUpdateInputSerializer, request.data))
        return self._render(services.product_update(actor=request.user, product=product, data=data))

    def partial_update(self, request, pk):
        return self.update(request, pk)

    def destroy(self, request, pk):
        services.product_discontinue(actor=request.user, product=self.get_object())
        return Response({"message": "Product discontinued successfully"})

    @action(detail=True, methods=["post"])
    def discontinue(self, request, pk):
        return self._transition(services.product_discontinue)

    @action(detail=True, methods=["post"])
    def activate(self, request, pk):
        return self._transition(services.product_activate)

    def _transition(self, service) -> Response:
        product = self.get_object()
        reason = validated_body(s.ProductActionInputSerializer, self.request.data)["reason"]
        return self._render(service(actor=self.request.user, product=product, reason=reason))


# Locations --------------------------------------------------------------------

_LOCATION_WRITE = {200: s.LocationDetailSerializer, **error_responses(*WRITE_ERRORS, 404)}


@extend_schema_view(
    list=extend_schema(
        summary="List locations",
        description="Default order `code`.",
        responses={200: s.LocationSerializer(many=True), **error_responses(400, *READ_ERRORS)},
    ),
    retrieve=extend_schema(
        summary="Get a location",
        parameters=[ID_PARAMETER],
        responses={200: s.LocationDetailSerializer, **error_responses(*READ_ERRORS, 404)},
    ),
    create=extend_schema(
        summary="Create a location",
        request=s.LocationCreateInputSerializer,
        responses={201: s.LocationDetailSerializer, **error_responses(*WRITE_ERRORS, 409)},
    ),
    update=extend_schema(
        summary="Update a location",
        description="Partial, like PATCH. The code cannot change.",
        parameters=[ID_PARAMETER],
        request=s.LocationUpdateInputSerializer,
        responses=_LOCATION_WRITE,
    ),
    partial_update=extend_schema(
        summary="Update a location",
        description="The code cannot change.",
        parameters=[ID_PARAMETER],
        request=s.LocationUpdateInputSerializer,
        responses=_LOCATION_WRITE,
    ),
    destroy=extend_schema(
        summary="Delete or deactivate a location",
        description="204 when nothing references the location; otherwise it is deactivated and returned (200).",
        parameters=[ID_PARAMETER],
        responses={
            200: OpenApiResponse(s.LocationDetailSerializer, description="Referenced: deactivated instead."),
            204: OpenApiResponse(description="Deleted."),
            **error_responses(*READ_ERRORS, 404),
        },
    ),
)
class LocationViewSet(ServiceViewSet):
    """Plants, distribution centres, warehouses and stores (PLN-03)."""

    list_selector = staticmethod(selectors.location_list)
    get_selector = staticmethod(selectors.location_get)
    serializer_class = s.LocationSerializer
    detail_serializer_class = s.LocationDetailSerializer
    filterset_class = LocationFilterSet
    action_permissions = {
        "list": perms.VIEW_LOCATION,
        "retrieve": perms.VIEW_LOCATION,
        "create": perms.ADD_LOCATION,
        "update": perms.CHANGE_LOCATION,
        "partial_update": perms.CHANGE_LOCATION,
        "destroy": perms.DELETE_LOCATION,
    }

    def create(self, request):
        data = validated_body(s.LocationCreateInputSerializer, request.data)
        return self._render(services.location_create(actor=request.user, data=data), status.HTTP_201_CREATED)

    def update(self, request, pk):
        location = self.get_object()
        data = validated_body(s.LocationUpdateInputSerializer, request.data)
        return self._render(services.location_update(actor=request.user, location=location, data=data))

    def partial_update(self, request, pk):
        return self.update(request, pk)

    def destroy(self, request, pk):
        location = services.location_delete(actor=request.user, location=self.get_object())
        if location is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self._render(location)
