"""Role-matrix rows of this area (see tests/platform/matrix/__init__.py)."""

from forecasting.services import jobs
from tests.platform.matrix.roles import FC_W, OPS

ENDPOINTS: list[tuple[str, str, frozenset | str, dict | None]] = [
    ("POST", "/forecasting/generate-job", FC_W, {}),  # no product: 400 for every allowed role
    ("GET", "/forecasting/jobs", OPS, None),
    ("GET", "/forecasting/jobs/metrics", OPS, None),
    ("POST", "/forecasting/jobs/cleanup", OPS, {}),
    # The admin's job: OPS read it; anyone else who did not request it is told it does not exist.
    ("GET", "/forecasting/jobs/{job_id}", OPS, None),
    ("POST", "/forecasting/jobs/{job_id}/cancel", OPS, {}),  # queued: cancelled, then 409 for the next callers
    ("POST", "/forecasting/jobs/{job_id}/retry", OPS, {}),  # cancelled by then: 202 new job
]

DENIED_STATUS = {("GET", "/forecasting/jobs/{job_id}"): 404}


def setup(*, admin, product, location, category) -> tuple[dict, dict]:
    job, _ = jobs.forecast_job_create(actor=admin, product_id=product.pk, horizon=3)
    return {"{job_id}": job.job_id}, {}
