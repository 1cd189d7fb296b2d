"""Console routes of the planning app (catalog: UI-14; demand planning: UI-04; supply planning: UI-05)."""

from django.urls import path

from planning import (
    kpi_urls,
    production_urls,
    scenario_urls,
    views,
    views_history,
    views_integrations,
    views_inventory,
    views_io,
    views_supply,
)
from planning.views_plans import plan_urlpatterns

app_name = "planning"
urlpatterns = [
    path("catalog/", views.CatalogIndexView.as_view(), name="catalog"),
    path("catalog/products/", views.ProductListView.as_view(), name="product_list"),
    path("catalog/products/new/", views.ProductCreateView.as_view(), name="product_create"),
    path("catalog/products/<int:pk>/", views.ProductDetailView.as_view(), name="product_detail"),
    path("catalog/products/<int:pk>/edit/", views.ProductUpdateView.as_view(), name="product_edit"),
    path("catalog/products/<int:pk>/discontinue/", views.ProductDiscontinueView.as_view(), name="product_discontinue"),
    path("catalog/products/<int:pk>/activate/", views.ProductActivateView.as_view(), name="product_activate"),
    path("catalog/categories/", views.CategoryListView.as_view(), name="category_list"),
    path("catalog/categories/new/", views.CategoryCreateView.as_view(), name="category_create"),
    path("catalog/categories/<int:pk>/edit/", views.CategoryUpdateView.as_view(), name="category_edit"),
    path("catalog/categories/<int:pk>/delete/", views.CategoryDeleteView.as_view(), name="category_delete"),
    path("catalog/locations/", views.LocationListView.as_view(), name="location_list"),
    path("catalog/locations/new/", views.LocationCreateView.as_view(), name="location_create"),
    path("catalog/locations/<int:pk>/edit/", views.LocationUpdateView.as_view(), name="location_edit"),
    path("catalog/locations/<int:pk>/delete/", views.LocationDeleteView.as_view(), name="location_delete"),
    *views_history.urlpatterns,
    *plan_urlpatterns(views.DEMAND_CONSOLE, "demand", views.DemandPlanViews),
    *views_supply.urlpatterns,
    *views_inventory.urlpatterns,
    *views_integrations.urlpatterns,
    *views_io.urlpatterns,
    *scenario_urls.urlpatterns,
    *kpi_urls.urlpatterns,
    *production_urls.urlpatterns,
]
