"""Role-matrix rows of this area (see tests/platform/matrix/__init__.py)."""

from datetime import date

from django.utils import timezone

from forecasting import services
from forecasting.models import ForecastAnomaly
from governance.choices import Role
from governance.services import user_create
from tests.forecasting.builders import make_run
from tests.platform.matrix.roles import FC_W, NV, OPS

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("GET", "/forecasting/consensus", NV, None),
    ("POST", "/forecasting/consensus", FC_W, {}),
    ("GET", "/forecasting/consensus/export", NV, None),
    ("GET", "/forecasting/consensus/{id}", NV, None),
    ("PATCH", "/forecasting/consensus/{id}", FC_W, {}),
    ("DELETE", "/forecasting/consensus/{id}", FC_W, None),  # a proposed row: 409 for every allowed role
    ("GET", "/forecasting/consensus/{id}/versions", NV, None),
    ("POST", "/forecasting/consensus/{id}/propose", FC_W, {}),
    ("POST", "/forecasting/consensus/{id}/return", OPS, {}),  # no comment: 400 for every allowed role
    ("POST", "/forecasting/consensus/{id}/approve", OPS, {}),  # proposed by someone else: the first approves
    ("POST", "/forecasting/promote", FC_W, {}),
    ("POST", "/forecasting/anomalies/detect", FC_W, {}),
    ("GET", "/forecasting/anomalies", NV, None),
    ("PATCH", "/forecasting/anomalies/{id}", FC_W, {}),
]


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    run = make_run(product, as_of=date(2027, 1, 1), predictions=[100, 110, 120])
    draft = services.consensus_create(actor=admin, data={"forecast_run_audit_id": run.pk, "period": date(2027, 1, 1)})
    proposer = user_create(actor=admin, email="fc-proposer@matrix.test", full_name="Proposer", role=Role.DEMAND_PLANNER)
    body = {"forecast_run_audit_id": run.pk, "period": date(2027, 2, 1), "status": "proposed"}
    proposed = services.consensus_create(actor=proposer, data=body)
    anomaly = ForecastAnomaly.objects.create(
        product=product, period=date(2025, 6, 1), value=500, expected=100, z_score=3, method="zscore",
        direction="spike", severity="medium", detected_at=timezone.now(),
    )  # fmt: skip
    ids = {"/forecasting/consensus/": draft.pk, "/forecasting/anomalies/": anomaly.pk}
    op_ids = {
        ("DELETE", "/forecasting/consensus/{id}"): proposed.pk,
        ("POST", "/forecasting/consensus/{id}/return"): proposed.pk,
        ("POST", "/forecasting/consensus/{id}/approve"): proposed.pk,
    }
    return ids, op_ids
