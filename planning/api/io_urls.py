"""File export, import and template routes (INT-20…22).

Listed before the routers' routes, so `demand/plans/export` is not read as the detail route of a
plan; every path answers with and without a trailing slash (API-02).
"""

from django.urls import re_path

from planning.api.io_views import export_view, import_view, template_view

# (dataset, path, summary, the list's filter set documented as the export's parameters)
_EXPORTS = [
    ("products", "products/export", "Export products", "ProductFilterSet"),
    ("locations", "locations/export", "Export locations", "LocationFilterSet"),
    ("demand_plans", "demand/plans/export", "Export demand plans", "DemandPlanFilterSet"),
    ("supply_plans", "supply/plans/export", "Export supply plans", "SupplyPlanFilterSet"),
    ("gap_analysis", "supply/gap-analysis/export", "Export the gap analysis", "GapAnalysisParams"),
    ("inventory", "inventory/export", "Export inventory", "InventoryFilterSet"),
    ("inventory_snapshots", "inventory/snapshots/export", "Export inventory snapshots", "InventorySnapshotFilterSet"),
]
# (dataset, path prefix of `import` and `import-template`, summary)
_IMPORTS = [
    ("products", "products", "Import products"),
    ("demand_plans", "demand/plans", "Import demand plans"),
    ("demand_actuals", "demand/actuals", "Import demand actuals"),
    ("supply_plans", "supply/plans", "Import supply plans"),
    ("inventory", "inventory", "Import inventory"),
]

urlpatterns = []
for _dataset, _path, _summary, _filterset in _EXPORTS:
    _view = export_view(_dataset, summary=_summary, filterset=_filterset)
    urlpatterns.append(re_path(rf"^{_path}/?$", _view.as_view(), name=f"io-{_dataset}-export"))
for _dataset, _path, _summary in _IMPORTS:
    _view = import_view(_dataset, summary=_summary)
    urlpatterns.append(re_path(rf"^{_path}/import/?$", _view.as_view(), name=f"io-{_dataset}-import"))
    _view = template_view(_dataset, summary=f"{_summary} template")
    urlpatterns.append(re_path(rf"^{_path}/import-template/?$", _view.as_view(), name=f"io-{_dataset}-template"))
