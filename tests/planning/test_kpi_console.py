"""UI-13 KPI Dashboard: cards by category for every role, the detail with its trend chart and inputs,
and the executive and coordinator writes."""

import datetime
from decimal import Decimal as D

import pytest
from django.test import Client

from governance.models import AuditEvent
from planning.models import KpiDefinition, KpiMetric

pytestmark = pytest.mark.django_db
JAN, FEB, MAR = (datetime.date(2025, m, 1) for m in (1, 2, 3))


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def metric(name, period, value, **extra):
    d = KpiDefinition.objects.get(code=name)
    extra.setdefault("target", d.target)
    return KpiMetric.objects.create(metric_name=name, metric_category=d.category, period=period, value=D(value),
                                    unit=d.unit, **extra)  # fmt: skip


@pytest.fixture
def values():
    metric("forecast_accuracy", FEB, "80", source="computed", status="warning")
    metric("forecast_accuracy", MAR, "88", source="computed", status="on_target", previous_value=D(80),
           trend="improving", variance_pct=D("3.5294"), inputs={"points": 40, "wape": "12.0000"})  # fmt: skip
    metric("days_of_supply", MAR, "36", source="computed", status="warning", target=None, trend="declining",
           previous_value=D(33))  # fmt: skip
    metric("supplier_otd", MAR, "93", source="manual", status="on_target")


def test_the_dashboard_shows_cards_by_category_to_a_viewer(users, values):
    response = client_for(users["viewer"]).get("/kpi/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="kpi-group-demand"' in html
    assert 'id="kpi-group-inventory"' in html
    assert 'id="kpi-group-supply"' in html
    assert "Forecast accuracy" in html
    assert "88.0 %" in html
    assert "≥ 85.0 %" in html
    assert "36.0 days" in html
    assert "15.0 days to 30.0 days" in html
    # achievement 88 / 85 = 103.5 %: a full green bar; days of supply 100 - 20 = 80 %: amber
    assert "103.5 % achieved" in html
    assert "kpi-bar__fill--green" in html
    assert "kpi-bar__fill--amber" in html
    assert "kpi-card--warning" in html
    assert "kpi-trend--improving" in html
    assert ">Computed<" in html
    assert ">Manual<" in html
    assert 'class="kpi-spark"' in html  # accuracy has two months
    assert "Export CSV" in html
    # the viewer neither records nor refreshes
    assert 'id="kpi-record"' not in html
    assert 'id="kpi-refresh-form"' not in html


def test_category_chips_narrow_the_cards(users, values):
    html = client_for(users["viewer"]).get("/kpi/?category=supply").content.decode()
    assert "Supplier on-time delivery" in html
    assert "Forecast accuracy" not in html
    assert 'aria-current="page">Supply<' in html
    assert "category=supply&amp;format=csv" in html or "category=supply&format=csv" in html


def test_executive_records_a_manual_kpi_and_sees_the_refusal_of_a_computed_one(users):
    exec_client = client_for(users["executive"])
    html = exec_client.get("/kpi/").content.decode()
    assert 'id="kpi-record"' in html
    assert 'id="kpi-refresh-form"' in html
    response = exec_client.post("/kpi/record/", {"metric_name": "order_cycle_time", "period": "2025-03",
                                                 "value": "2.5", "target": ""}, follow=True)  # fmt: skip
    assert "order_cycle_time recorded for Mar 2025." in response.content.decode()
    row = KpiMetric.objects.get(metric_name="order_cycle_time")
    assert (row.value, row.source, row.status) == (D("2.5000"), "manual", "on_target")  # 2.5 ≤ 3
    assert AuditEvent.objects.filter(event_type="planning.kpi_metric.created").count() == 1
    response = exec_client.post("/kpi/record/", {"metric_name": "fill_rate", "period": "2025-03", "value": "99"},
                                follow=True)  # fmt: skip
    assert "computed from data" in response.content.decode()
    assert not KpiMetric.objects.filter(metric_name="fill_rate").exists()


def test_only_the_right_roles_may_post(users):
    viewer = client_for(users["viewer"])
    body = {"metric_name": "supplier_otd", "period": "2025-03", "value": "1"}
    assert viewer.post("/kpi/record/", body).status_code == 403
    assert viewer.post("/kpi/refresh/").status_code == 403
    assert viewer.post("/kpi/forecast_accuracy/definition/", {"name": "x"}).status_code == 403
    assert Client().get("/kpi/").status_code == 302  # to the login page


def test_coordinator_refreshes_from_the_console(users):
    response = client_for(users["sop_coordinator"]).post("/kpi/refresh/", follow=True)
    assert "KPIs refreshed for" in response.content.decode()


def test_detail_shows_the_trend_chart_values_and_inputs(users, values):
    response = client_for(users["viewer"]).get("/kpi/forecast_accuracy/?months=24")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="kpi-trend"' in html
    assert "over 24 months" in html
    assert 'data-period="2025-03"' in html
    assert 'data-period="2025-02"' in html
    assert 'id="kpi-inputs"' in html
    assert 'data-input="wape">12.0000<' in html
    assert 'id="kpi-definition-form"' not in html
    range_html = client_for(users["viewer"]).get("/kpi/days_of_supply/").content.decode()
    assert 'class="kpi-band"' in range_html  # the 15-30 band
    assert client_for(users["viewer"]).get("/kpi/no_such_kpi/").status_code == 404


def test_executive_edits_targets_and_thresholds(users, values):
    exec_client = client_for(users["executive"])
    assert 'id="kpi-definition-form"' in exec_client.get("/kpi/forecast_accuracy/").content.decode()
    response = exec_client.post("/kpi/forecast_accuracy/definition/", {
        "name": "Forecast accuracy", "target": "90", "warning_threshold_pct": "2", "critical_threshold_pct": "5"},
        follow=True)  # fmt: skip
    assert "targets and thresholds saved" in response.content.decode()
    definition = KpiDefinition.objects.get(code="forecast_accuracy")
    assert (definition.target, definition.warning_threshold_pct) == (D("90.0000"), D("2.00"))
    # March keeps its target of 85 (88 ≥ 85: on target); February 80 vs 85 is 5.9 % adverse > 5 → critical
    assert KpiMetric.objects.get(metric_name="forecast_accuracy", period=FEB).status == "critical"
    bad = exec_client.post("/kpi/forecast_accuracy/definition/", {
        "name": "Forecast accuracy", "target": "90", "warning_threshold_pct": "9", "critical_threshold_pct": "5"},
        follow=True)  # fmt: skip
    assert "warning" in bad.content.decode().lower()
    assert KpiDefinition.objects.get(code="forecast_accuracy").warning_threshold_pct == D("2.00")


def test_executive_deletes_a_manual_value_from_the_detail(users, values):
    exec_client = client_for(users["executive"])
    row = KpiMetric.objects.get(metric_name="supplier_otd")
    response = exec_client.post(f"/kpi/values/{row.pk}/delete/", {"next": "/kpi/supplier_otd/"}, follow=True)
    assert "deleted" in response.content.decode()
    assert not KpiMetric.objects.filter(pk=row.pk).exists()
    computed = KpiMetric.objects.filter(source="computed").first()
    response = exec_client.post(f"/kpi/values/{computed.pk}/delete/", follow=True)
    assert "computed from data" in response.content.decode()
