"""Forecasting in a real browser (UI-09): a demand planner opens the workbench of a product with
history, generates a forecast as a background job, watches the job complete on the Jobs page, views
the forecast and promotes it; the Demand Planning grid then shows the promoted quantities.

The job runs in a real `manage.py qcluster` worker when the live server's database is one another
process can open (PostgreSQL); SQLite test databases live in memory, so there django-q runs the
task in-process at commit (its sync mode) instead.
"""

import os
import signal
import subprocess
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection

from forecasting.models import Forecast, ForecastJob, ForecastRun
from governance.choices import Role
from governance.services import user_create
from planning import services
from planning.models import DemandPlan
from tests.e2e.console import csp_violations, sign_in
from tests.forecasting.history_data import seasonal, write_actuals
from tests.platform.subproc import PYTHON, ROOT, base_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Browser-Test-Pass-42"
PLANNER = "e2e-fc-planner@example.test"
JOB_TIMEOUT_MS = 90_000


@pytest.fixture
def product():
    admin = user_create(actor=None, email="e2e-fc-admin@example.test", full_name="Ada Admin", role=Role.ADMIN,
                        password=PASSWORD)  # fmt: skip
    user_create(actor=None, email=PLANNER, full_name="Pat Planner", role=Role.DEMAND_PLANNER, password=PASSWORD)
    category = services.category_create(actor=admin, name="Audio")
    product = services.product_create(actor=admin, data={"sku": "SPK-FC", "name": "Speaker", "category": category})
    write_actuals(product, seasonal(30))
    return product


def _postgres_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def job_worker(product, tmp_path, monkeypatch):
    """A running worker for the forecast jobs queued during the test (see the module docstring)."""
    if connection.vendor != "postgresql":
        from django_q.conf import Conf

        # Conf is read at import, so a settings override would not reach it (stack notes §2).
        monkeypatch.setattr(Conf, "SYNC", True)
        yield None
        return
    env = base_env(DJANGO_SETTINGS_MODULE="genxsop.settings.test", DATABASE_URL=_postgres_url(), Q_WORKERS="1",
                   CACHE_URL="locmem://worker", LOG_LEVEL="WARNING")  # fmt: skip
    log = tmp_path / "qcluster.log"
    with log.open("w") as out:
        cluster = subprocess.Popen(  # noqa: S603 (our interpreter and manage.py)
            [PYTHON, str(ROOT / "manage.py"), "qcluster"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield cluster
    finally:
        if cluster.poll() is None:
            cluster.send_signal(signal.SIGTERM)
            try:
                cluster.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(cluster.pid, signal.SIGKILL)
                cluster.wait(timeout=5)


def test_planner_generates_as_a_job_views_and_promotes_the_forecast(page, product, job_worker):
    # Given a demand planner on the workbench of a product with 30 months of history
    sign_in(page, PLANNER, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Forecasting", exact=True).click()
    page.wait_for_url("**/forecasting/")
    page.locator("#fc-product").select_option(str(product.pk))
    with page.expect_navigation():
        page.get_by_role("button", name="Open").click()
    assert page.locator("#history-chart").count() == 1
    assert page.locator("#history-table tbody tr").count() == 24  # the default 24-month range

    # When they generate a 4-month forecast as a background job
    page.locator("a[data-tab='setup']").click()
    page.get_by_label("Horizon").fill("4")
    with page.expect_navigation():
        page.get_by_role("button", name="Generate as background job").click()
    page.wait_for_url("**/forecasting/jobs/**")
    job = ForecastJob.objects.get(product=product)
    row = page.locator(f"tr[data-job='{job.job_id}']")
    assert row.count() == 1

    # Then the Jobs page shows its progress reaching completed, without a reload
    page.wait_for_selector(f"tr[data-job='{job.job_id}'][data-status='completed']", timeout=JOB_TIMEOUT_MS)
    assert row.locator("[data-job-progress]").evaluate("bar => bar.value") == 100
    assert row.locator("[data-job-status]").inner_text() == "Completed"

    # And "View forecast" opens the forecast with its diagnostics, chart and 4 points
    with page.expect_navigation():
        row.get_by_role("link", name="View forecast").click()
    run = ForecastRun.objects.get(product=product, job=job)
    assert page.locator("#model-used").inner_text().startswith(run.model_used)
    assert page.locator("#forecast-chart").count() == 1
    assert page.locator("#forecast-points tbody tr").count() == 4

    # And a consensus for the first month previews FRM-28 live before it is saved
    first = Forecast.objects.filter(run=run).order_by("period").first()
    with page.expect_navigation():
        page.get_by_role("link", name="New consensus").click()
    page.get_by_label("Sales override").fill("10")
    page.get_by_label("Constraint cap").fill("1")
    assert page.locator("[data-preview-final]").inner_text() == "1.00"
    page.get_by_label("Constraint cap").fill("")
    expected_pre = first.predicted_qty + 10
    assert page.locator("[data-preview-pre]").inner_text() == f"{expected_pre:,.2f}"
    with page.expect_navigation():
        page.get_by_role("button", name="Create consensus").click()
    assert page.locator("#consensus-final").inner_text() == f"{expected_pre:,.2f}"

    # When they promote the run's 4 months to the demand plan
    page.locator("a[data-tab='results']").click()
    result_row = page.locator(f"#result-groups tr[data-run='{run.pk}']")
    result_row.get_by_text("Promote to demand plan").click()
    result_row.get_by_label("Horizon").fill("4")
    with page.expect_navigation():
        result_row.get_by_role("button", name=f"Promote {run.model_used}").click()
    assert page.get_by_role("status").filter(has_text="Promoted 4 demand plan quantities").count() == 1

    # Then the Demand Planning grid shows the promoted quantities for those months
    results = list(Forecast.objects.filter(run=run).order_by("period"))
    page.goto(f"/demand/?search=SPK-FC&period_from={results[0].period:%Y-%m}")
    grid = page.locator("#demand-plan-table tbody tr[data-sku='SPK-FC']")
    assert grid.count() == 4
    for result in results:
        plan = DemandPlan.objects.get(product=product, period=result.period, is_current=True)
        assert plan.forecast_qty == result.predicted_qty.quantize(Decimal("0.01"))
        cell = page.locator(f"#demand-plan-table tr[data-plan='{plan.pk}'] td.num").first
        assert cell.inner_text() == f"{result.predicted_qty.quantize(Decimal('1'), ROUND_HALF_UP):,}"

    assert csp_violations(page) == []
    assert page.csp_reports == []
