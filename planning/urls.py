"""Console routes of the planning app (catalog: UI-14; demand planning: UI-04)."""

from django.urls import path

from planning import views, views_integrations, views_inventory, views_supply

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
    path("demand/", views.DemandPlanListView.as_view(), name="demand_plan_list"),
    path("demand/new/", views.DemandPlanCreateView.as_view(), name="demand_plan_create"),
    path("demand/<int:pk>/", views.DemandPlanDetailView.as_view(), name="demand_plan_detail"),
    path("demand/<int:pk>/edit/", views.DemandPlanUpdateView.as_view(), name="demand_plan_edit"),
    path("demand/<int:pk>/submit/", views.DemandPlanSubmitView.as_view(), name="demand_plan_submit"),
    path("demand/<int:pk>/withdraw/", views.DemandPlanWithdrawView.as_view(), name="demand_plan_withdraw"),
    path("demand/<int:pk>/approve/", views.DemandPlanApproveView.as_view(), name="demand_plan_approve"),
    path("demand/<int:pk>/reject/", views.DemandPlanRejectView.as_view(), name="demand_plan_reject"),
    path("demand/<int:pk>/reopen/", views.DemandPlanReopenView.as_view(), name="demand_plan_reopen"),
    path("demand/<int:pk>/delete/", views.DemandPlanDeleteView.as_view(), name="demand_plan_delete"),
    *views_supply.urlpatterns,
    *views_inventory.urlpatterns,
    *views_integrations.urlpatterns,
]
