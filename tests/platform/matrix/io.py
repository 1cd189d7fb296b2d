"""Role-matrix rows of this area (see tests/platform/matrix/__init__.py): file export, import, templates."""

from tests.platform.matrix.roles import ADMIN, DEM_W, INV_R, INV_W, NV, SUP_W

# A JSON body on an import is 415 for the allowed roles: past the permission layer, nothing written.
ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/products/export", NV, None),
    ("GET", "/locations/export", NV, None),
    ("GET", "/demand/plans/export", NV, None),
    ("GET", "/supply/plans/export", NV, None),
    ("GET", "/supply/gap-analysis/export", NV, None),
    ("GET", "/inventory/export", INV_R, None),
    ("GET", "/inventory/snapshots/export", INV_R, None),
    ("POST", "/products/import", ADMIN, {}),
    ("GET", "/products/import-template", ADMIN, None),
    ("POST", "/demand/plans/import", DEM_W, {}),
    ("GET", "/demand/plans/import-template", DEM_W, None),
    ("POST", "/demand/actuals/import", DEM_W, {}),
    ("GET", "/demand/actuals/import-template", DEM_W, None),
    ("POST", "/supply/plans/import", SUP_W, {}),
    ("GET", "/supply/plans/import-template", SUP_W, None),
    ("POST", "/inventory/import", INV_W, {}),
    ("GET", "/inventory/import-template", INV_W, None),
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    return {}, {}
