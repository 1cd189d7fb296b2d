"""Role-matrix rows of this area (see tests/platform/matrix/__init__.py)."""

from datetime import date

from tests.forecasting.builders import make_run
from tests.platform.matrix.roles import FC_W, NV

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/forecasting/models", NV, None),
    ("POST", "/forecasting/generate", FC_W, {}),  # no product_id: 400 for every allowed role
    ("POST", "/forecasting/recommendation", FC_W, {}),  # no product_id: 400
    ("GET", "/forecasting/model-comparison", NV, None),  # no product_id: 400
    ("POST", "/forecasting/compare", NV, {}),  # no product_id: 400
    ("GET", "/forecasting/runs", NV, None),
    ("GET", "/forecasting/runs/{id}", NV, None),
    ("GET", "/forecasting/results", NV, None),
    ("GET", "/forecasting/results/export", NV, None),
    ("GET", "/forecasting/results/{id}", NV, None),
    ("DELETE", "/forecasting/results/{id}", FC_W, None),  # discarded by the first caller, a no-op afterwards
    ("DELETE", "/forecasting/results/by-product/{product_id}", FC_W, None),
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    run = make_run(product, as_of=date(2027, 3, 1), predictions=[50, 60])
    return {"/forecasting/runs/": run.pk, "/forecasting/results/": run.results.first().pk,
            "{product_id}": product.pk}, {}  # fmt: skip
