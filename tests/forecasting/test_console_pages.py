"""Forecasting console side pages: Jobs (UI-09 Jobs tab, UI-21 job monitor), Accuracy (FC-51…55) and
Anomalies (WF-22), by role, over the same services and selectors as the API."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from forecasting.models import ForecastAccuracyPoint, ForecastAnomaly, ForecastJob
from forecasting.series import add_months, last_closed_month
from forecasting.services import forecast_job_create
from governance.choices import Role
from planning import services as planning_services
from tests.forecasting.history_data import seasonal, write_actuals
from tests.planning.test_catalog_console import assert_csp_clean

pytestmark = pytest.mark.django_db

JOBS = reverse("forecasting:jobs")
ACCURACY = reverse("forecasting:accuracy")
ANOMALIES = reverse("forecasting:anomalies")
D = Decimal


@pytest.fixture
def w(users):
    admin = users[Role.ADMIN]
    audio = planning_services.category_create(actor=admin, name="Audio")
    speaker = planning_services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": audio})
    write_actuals(speaker, seasonal(30))
    return SimpleNamespace(admin=admin, users=users, planner=users[Role.DEMAND_PLANNER], speaker=speaker,
                           executive=users[Role.EXECUTIVE], audio=audio)  # fmt: skip


def login(client, user):
    client.force_login(user)
    return client


def follow_messages(client, response) -> list[str]:
    assert response.status_code == 302
    page = client.get(response["Location"])
    return [str(m) for m in page.context["messages"]]


def job(w, user, **state):
    row, _ = forecast_job_create(actor=user, product_id=w.speaker.pk, horizon=3)
    if state:
        ForecastJob.objects.filter(pk=row.pk).update(**state)
        row.refresh_from_db()
    return row


def finished(status, **extra):
    return {"status": status, "started_at": timezone.now(), "completed_at": timezone.now(), **extra}


# Jobs -------------------------------------------------------------------------------------------


def test_a_planner_sees_only_their_own_jobs_with_live_progress_rows(client, w):
    mine = job(w, w.planner, status="running", started_at=timezone.now(), progress_pct=D("40"), series_total=5,
               series_done=2)  # fmt: skip
    done = job(w, w.planner, **finished("completed", progress_pct=D("100"), series_total=1, series_done=1))
    other = job(w, w.users[Role.SUPPLY_PLANNER])
    login(client, w.planner)
    response = client.get(JOBS + "?scope=all")  # not OPS: the scope is ignored
    html = response.content.decode()
    assert [r["job"].pk for r in response.context["rows"]] == [done.pk, mine.pk]
    assert other.job_id not in html
    assert f'data-job-poll="/api/v1/forecasting/jobs/{mine.job_id}"' in html
    assert f'data-job-poll="/api/v1/forecasting/jobs/{done.job_id}"' not in html
    assert 'value="40"' in html
    assert "2/5" in html
    assert "metrics" not in response.context
    assert 'id="cleanup-form"' not in html
    assert "/cancel/" not in html
    assert "/retry/" not in html
    # The polled API answers the session with what the page script reads.
    body = client.get(f"/api/v1/forecasting/jobs/{mine.job_id}").json()
    assert {"status", "progress_pct", "series_done", "series_total"} <= set(body)
    assert_csp_clean(html, JOBS)


def test_a_completed_generate_job_links_to_its_forecast(client, w):
    done = job(w, w.planner, **finished("completed", progress_pct=D("100")))
    login(client, w.planner)
    row = next(r for r in client.get(JOBS).context["rows"] if r["job"].pk == done.pk)
    assert row["forecast_url"] == f"{reverse('forecasting:workbench')}?product={w.speaker.pk}&tab=forecast"


def test_ops_see_every_job_the_metrics_and_the_actions(client, w):
    queued = job(w, w.planner)
    failed = job(w, w.planner, **finished("failed", error="boom", error_code="INTERNAL_ERROR"))
    login(client, w.executive)
    mine = client.get(JOBS)
    assert mine.context["rows"] == []  # the executive's own jobs: none
    response = client.get(JOBS + "?scope=all")
    html = response.content.decode()
    assert {r["job"].pk for r in response.context["rows"]} == {queued.pk, failed.pk}
    assert response.context["metrics"]["by_status"]["queued"] == 1
    assert response.context["metrics"]["failed_last_24h"] == 1
    assert 'id="job-metrics"' in html
    assert 'id="cleanup-form"' in html
    rows = {r["job"].pk: r for r in response.context["rows"]}
    assert (rows[queued.pk]["can_cancel"], rows[queued.pk]["can_retry"]) == (True, False)
    assert (rows[failed.pk]["can_cancel"], rows[failed.pk]["can_retry"]) == (False, True)
    assert "boom" in html


def test_ops_cancel_a_queued_job_and_retry_a_failed_one(client, w):
    queued = job(w, w.planner)
    failed = job(w, w.planner, **finished("failed", error_code="INTERNAL_ERROR"))
    login(client, w.executive)
    response = client.post(reverse("forecasting:job_cancel", args=[queued.job_id]))
    assert any("cancelled" in m for m in follow_messages(client, response))
    assert ForecastJob.objects.get(pk=queued.pk).status == "cancelled"
    response = client.post(reverse("forecasting:job_retry", args=[failed.job_id]), {"next": JOBS + "?scope=all"})
    assert response["Location"] == JOBS + "?scope=all"
    retry = ForecastJob.objects.get(retry_of=failed)
    assert retry.status == "queued"
    # A finished job cannot be cancelled: a message, not an error page.
    response = client.post(reverse("forecasting:job_cancel", args=[failed.job_id]))
    assert any("cannot be cancelled" in m for m in follow_messages(client, response))


def test_planners_may_not_cancel_retry_or_clean_up(client, w):
    queued = job(w, w.planner)
    login(client, w.planner)
    assert client.post(reverse("forecasting:job_cancel", args=[queued.job_id])).status_code == 403
    assert client.post(reverse("forecasting:job_retry", args=[queued.job_id])).status_code == 403
    assert client.post(reverse("forecasting:jobs_cleanup"), {"retention_days": 1}).status_code == 403
    assert ForecastJob.objects.get(pk=queued.pk).status == "queued"


def test_cleanup_dry_run_counts_and_the_real_run_deletes(client, w):
    old = job(w, w.planner, **finished("completed"))
    ForecastJob.objects.filter(pk=old.pk).update(completed_at=timezone.now() - datetime.timedelta(days=40))
    job(w, w.planner)
    login(client, w.executive)
    response = client.post(reverse("forecasting:jobs_cleanup"), {"retention_days": 30, "dry_run": "on"})
    assert any("Dry run: 1 finished job older than 30 days would be deleted." in m
               for m in follow_messages(client, response))  # fmt: skip
    assert ForecastJob.objects.count() == 2
    response = client.post(reverse("forecasting:jobs_cleanup"), {"retention_days": 30})
    assert any("Deleted 1 finished job" in m for m in follow_messages(client, response))
    assert ForecastJob.objects.count() == 1
    response = client.post(reverse("forecasting:jobs_cleanup"), {"retention_days": 0})
    assert any("Retention days" in m for m in follow_messages(client, response))


def test_the_jobs_page_reads_a_fixed_number_of_queries(client, w):
    for _ in range(2):
        job(w, w.planner)
    login(client, w.executive)
    client.get(JOBS + "?scope=all")
    with CaptureQueriesContext(connection) as few:
        client.get(JOBS + "?scope=all")
    for _ in range(6):
        job(w, w.users[Role.SUPPLY_PLANNER])
    with CaptureQueriesContext(connection) as many:
        client.get(JOBS + "?scope=all")
    assert len(many) == len(few)


# Accuracy ---------------------------------------------------------------------------------------


def _points(w, *, lag=1, months=6):
    last = last_closed_month()
    rows = []
    for i in range(months):
        period = add_months(last, -i)
        actual = D("100")
        for layer, model, qty in (("naive", "seasonal_naive", D("130")), ("statistical", "ewma", D("115")),
                                  ("consensus", "consensus", D("105"))):  # fmt: skip
            error = qty - actual
            rows.append(ForecastAccuracyPoint(
                product=w.speaker, period=period, lag=lag, layer=layer, model_type=model, forecast_qty=qty,
                actual_qty=actual, error=error, abs_error=abs(error), ape=abs(error), lower_bound=qty - 20,
                upper_bound=qty + 20, in_interval=abs(error) <= 20, computed_at=timezone.now(),
            ))  # fmt: skip
    ForecastAccuracyPoint.objects.bulk_create(rows)


def test_accuracy_page_shows_the_model_table_trend_fva_and_coverage(client, w):
    _points(w)
    login(client, w.users[Role.FINANCE_ANALYST])
    response = client.get(ACCURACY + "?lag=1&layer=all")
    html = response.content.decode()
    rows = {(r["layer"], r["model_type"]): r for r in response.context["report_rows"]}
    assert set(rows) == {("naive", "seasonal_naive"), ("statistical", "ewma"), ("consensus", "consensus")}
    assert rows[("statistical", "ewma")]["wape"] == pytest.approx(15.0)
    assert rows[("statistical", "ewma")]["interval_coverage_pct"] == pytest.approx(100.0)
    assert rows[("naive", "seasonal_naive")]["interval_coverage_pct"] == pytest.approx(0.0)
    assert 'id="trend-chart"' in html
    assert 'id="fva-chart"' in html
    layers = {r["layer"]: r for r in response.context["fva"]["layers"]}
    assert layers["consensus"]["wape"] == pytest.approx(5.0)
    assert [s["label"] for s in response.context["fva_steps"]] == [
        "Seasonal naive", "Statistical", "Baseline", "+ Sales", "+ Marketing", "+ Finance", "Consensus"
    ]  # fmt: skip
    assert response.context["fva"]["by_product"][0]["sku"] == "SPK-1"
    assert_csp_clean(html, ACCURACY)


def test_accuracy_filters_by_lag_layer_and_product(client, w):
    _points(w, lag=3)
    login(client, w.planner)
    assert client.get(ACCURACY + "?lag=1").context["report_rows"] == []
    response = client.get(ACCURACY + f"?lag=3&layer=statistical&product={w.speaker.pk}")
    assert [(r["layer"], r["product_id"]) for r in response.context["report_rows"]] == [("statistical", w.speaker.pk)]
    # Nonsense filters fall back to defaults instead of failing.
    assert client.get(ACCURACY + "?lag=x&layer=bogus&product=abc&from=13-2020").status_code == 200


def test_accuracy_without_points_says_so(client, w):
    login(client, w.planner)
    html = client.get(ACCURACY).content.decode()
    assert "No accuracy measured yet" in html
    assert "trend-chart" not in html


# Anomalies --------------------------------------------------------------------------------------


def _anomaly(w, months_ago=2, **extra):
    values = {"value": D("900"), "expected": D("120"), "direction": "spike", "severity": "high", **extra}
    return ForecastAnomaly.objects.create(product=w.speaker, period=add_months(last_closed_month(), -months_ago),
                                          detected_at=timezone.now(), **values)  # fmt: skip


def test_anomalies_list_with_triage_actions_by_role(client, w):
    a = _anomaly(w)
    login(client, w.planner)
    response = client.get(ANOMALIES)
    html = response.content.decode()
    (row,) = response.context["rows"]
    assert row["anomaly"] == a
    assert set(row["actions"]) == {"acknowledge", "correct", "dismiss"}
    assert "Acknowledge" in html
    assert 'name="corrected_value"' in html
    assert_csp_clean(html, ANOMALIES)
    login(client, w.users[Role.INVENTORY_MANAGER])
    (row,) = client.get(ANOMALIES).context["rows"]
    assert row["actions"] == []
    assert client.post(reverse("forecasting:anomaly_acknowledge", args=[a.pk])).status_code == 403


def test_triage_acknowledge_correct_dismiss_and_reopen(client, w):
    a = _anomaly(w)
    b = _anomaly(w, months_ago=3)
    login(client, w.planner)
    client.post(reverse("forecasting:anomaly_acknowledge", args=[a.pk]))
    a.refresh_from_db()
    assert a.status == "acknowledged"
    response = client.post(reverse("forecasting:anomaly_correct", args=[a.pk]), {"corrected_value": "125.5"})
    a.refresh_from_db()
    assert (a.status, a.corrected_value) == ("corrected", D("125.50"))
    assert any("corrected" in m for m in follow_messages(client, response))
    # Dismissing needs a reason: without one it is a message and nothing changes.
    response = client.post(reverse("forecasting:anomaly_dismiss", args=[b.pk]), {"reason": ""})
    assert any("note is required" in m for m in follow_messages(client, response))
    b.refresh_from_db()
    assert b.status == "open"
    client.post(reverse("forecasting:anomaly_dismiss", args=[b.pk]), {"reason": "promotion week"})
    b.refresh_from_db()
    assert (b.status, b.notes) == ("dismissed", "promotion week")
    client.post(reverse("forecasting:anomaly_reopen", args=[b.pk]))
    b.refresh_from_db()
    assert b.status == "open"


def test_anomalies_filters(client, w):
    _anomaly(w)
    _anomaly(w, months_ago=3, severity="medium")
    login(client, w.planner)
    assert len(client.get(ANOMALIES + "?severity=medium").context["rows"]) == 1
    assert len(client.get(ANOMALIES + "?status=dismissed").context["rows"]) == 0
    assert len(client.get(ANOMALIES + f"?product={w.speaker.pk}").context["rows"]) == 2


def test_the_anomalies_page_reads_a_fixed_number_of_queries(client, w):
    _anomaly(w, months_ago=1)
    login(client, w.planner)
    client.get(ANOMALIES)
    with CaptureQueriesContext(connection) as few:
        client.get(ANOMALIES)
    for months_ago in range(2, 9):
        _anomaly(w, months_ago=months_ago)
    with CaptureQueriesContext(connection) as many:
        client.get(ANOMALIES)
    assert len(many) == len(few)
