"""API-KPI-01…14: manual values, targets, definitions, reads, refresh (inline and queued) and export,
with the error bodies and audit rows a caller relies on."""

import csv
import datetime
import io
from decimal import Decimal as D

import pytest
from rest_framework.test import APIClient

from governance.models import AuditEvent
from planning.models import KpiDefinition, KpiMetric

pytestmark = pytest.mark.django_db
API = "/api/v1/kpi"
JAN, FEB, MAR = (datetime.date(2025, m, 1) for m in (1, 2, 3))


def client_for(user) -> APIClient:
    c = APIClient()
    c.force_login(user)
    return c


@pytest.fixture
def exec_api(users):
    return client_for(users["executive"])


@pytest.fixture
def viewer_api(users):
    return client_for(users["viewer"])


def computed(name="fill_rate", period=MAR, value="97.5", **extra):
    d = KpiDefinition.objects.get(code=name)
    return KpiMetric.objects.create(metric_name=name, metric_category=d.category, period=period, value=D(value),
                                    target=d.target, unit=d.unit, source="computed", **extra)  # fmt: skip


def error(response) -> dict:
    return response.json()["detail"]


def test_the_catalogue_exists_after_migrate_and_is_listed(viewer_api):
    body = viewer_api.get(f"{API}/definitions").json()
    codes = {d["code"]: d for d in body}
    assert len(codes) == 17
    assert codes["forecast_accuracy"]["target"] == "85.0000"
    assert codes["forecast_accuracy"]["is_computed"] is True
    assert codes["days_of_supply"]["direction"] == "target_range"
    assert (codes["days_of_supply"]["target_low"], codes["days_of_supply"]["target_high"]) == ("15.0000", "30.0000")
    assert codes["supplier_otd"]["is_computed"] is False
    assert codes["forecast_bias"]["direction"] == "closest_to_zero"


def test_definitions_ensure_keeps_an_executives_target():
    from planning.kpi_catalogue import kpi_definitions_ensure

    KpiDefinition.objects.filter(code="fill_rate").update(target=D("96"))
    KpiDefinition.objects.filter(code="otif").delete()
    assert kpi_definitions_ensure() == 1
    assert KpiDefinition.objects.get(code="fill_rate").target == D("96.0000")
    assert KpiDefinition.objects.filter(code="otif").exists()


def test_record_a_manual_value_computes_variance_trend_and_status(exec_api, users):
    exec_api.post(f"{API}/metrics", {"metric_name": "supplier_otd", "period": "2025-02", "value": 96}, format="json")
    response = exec_api.post(f"{API}/metrics", {"metric_name": "supplier_otd", "period": "2025-03-17",
                                                "value": "84"}, format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    # 84 vs target 95: variance -11, -11/95 = -11.5789 % → warning (adverse 11.58 > 10); 84 < 96 by 12.5 %: declining;
    # achievement 84 / 95 = 88.4211
    assert body["period"] == "2025-03-01"
    assert (body["value"], body["target"], body["variance"], body["variance_pct"]) == (
        "84.0000",
        "95.0000",
        "-11.0000",
        "-11.5789",
    )
    assert (body["previous_value"], body["trend"], body["status"], body["achievement_pct"]) == (
        "96.0000",
        "declining",
        "warning",
        "88.4211",
    )
    assert (body["source"], body["name"], body["direction"], body["metric_category"]) == (
        "manual",
        "Supplier on-time delivery",
        "higher_is_better",
        "supply",
    )
    event = AuditEvent.objects.filter(event_type="planning.kpi_metric.created", target_id=str(body["id"])).get()
    assert event.actor_id == users["executive"].pk


def test_a_computed_kpi_cannot_be_entered_by_hand(exec_api):
    response = exec_api.post(f"{API}/metrics", {"metric_name": "fill_rate", "period": "2025-03", "value": 99},
                             format="json")  # fmt: skip
    assert response.status_code == 400
    assert error(response)["code"] == "VALIDATION_ERROR"
    assert "computed from data" in error(response)["message"]
    assert not KpiMetric.objects.exists()


def test_a_second_value_for_the_same_month_is_409(exec_api):
    body = {"metric_name": "order_cycle_time", "period": "2025-03", "value": 3}
    assert exec_api.post(f"{API}/metrics", body, format="json").status_code == 201
    response = exec_api.post(f"{API}/metrics", {**body, "period": "2025-03-31"}, format="json")
    assert response.status_code == 409
    assert error(response)["code"] == "DUPLICATE_ENTITY"


def test_an_unknown_name_creates_a_custom_manual_kpi(exec_api):
    response = exec_api.post(f"{API}/metrics", {"metric_name": "customer_complaints", "metric_category": "service",
                                                "period": "2025-03", "value": 12, "target": 10, "unit": "units",
                                                "direction": "lower_is_better"}, format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    # 12 vs 10, lower is better: adverse 20 % → warning (not above 20)
    assert response.json()["status"] == "warning"
    definition = KpiDefinition.objects.get(code="customer_complaints")
    assert (definition.is_computed, definition.direction, definition.unit) == (False, "lower_is_better", "units")
    assert AuditEvent.objects.filter(event_type="planning.kpi_definition.created").count() == 1
    # without a category it is 400
    response = exec_api.post(f"{API}/metrics", {"metric_name": "nps", "period": "2025-03", "value": 1}, format="json")
    assert response.status_code == 400
    assert "metric_category" in error(response)["fields"]


@pytest.mark.parametrize("body", [{"metric_name": "supplier_otd", "value": 1},
                                  {"metric_name": "supplier_otd", "period": "March", "value": 1},
                                  {"metric_name": "supplier_otd", "period": "2025-03", "value": "x"},
                                  {"metric_name": "Not a slug!", "period": "2025-03", "value": 1}])  # fmt: skip
def test_bad_bodies_are_400(exec_api, body):
    response = exec_api.post(f"{API}/metrics", body, format="json")
    assert response.status_code == 400
    assert error(response)["fields"]


def test_only_executives_write(viewer_api, users):
    response = viewer_api.post(f"{API}/metrics", {"metric_name": "supplier_otd", "period": "2025-03", "value": 1},
                               format="json")  # fmt: skip
    assert response.status_code == 403
    assert error(response)["code"] == "PERMISSION_DENIED"
    coordinator = client_for(users["sop_coordinator"])
    assert coordinator.post(f"{API}/targets", {"metric_name": "otif", "target": 90}, format="json").status_code == 403
    assert APIClient().get(f"{API}/metrics").status_code == 401


def test_edit_a_manual_value_re_evaluates_it_and_next_month(exec_api):
    feb = exec_api.post(f"{API}/metrics", {"metric_name": "supplier_otd", "period": "2025-02", "value": 90},
                        format="json").json()  # fmt: skip
    mar = exec_api.post(f"{API}/metrics", {"metric_name": "supplier_otd", "period": "2025-03", "value": 95},
                        format="json").json()  # fmt: skip
    assert mar["trend"] == "improving"  # 95 vs 90
    response = exec_api.patch(f"{API}/metrics/{feb['id']}", {"value": 99}, format="json")
    assert response.status_code == 200
    # Feb 99 vs 95: on target, achievement 104.2105
    assert (response.json()["value"], response.json()["achievement_pct"]) == ("99.0000", "104.2105")
    # March's previous is now 99: 95 - 99 = -4 % → declining
    march = KpiMetric.objects.get(pk=mar["id"])
    assert (march.previous_value, march.trend) == (D("99.0000"), "declining")
    event = AuditEvent.objects.get(event_type="planning.kpi_metric.updated")
    assert event.before["value"] == "90.0000"
    assert event.after["value"] == "99.0000"
    response = exec_api.put(f"{API}/metrics/{mar['id']}", {"target": 98}, format="json")
    # 95 vs 98: adverse 3.06 % → on target; the row keeps its own target
    assert (response.json()["target"], response.json()["status"]) == ("98.0000", "on_target")


def test_computed_rows_refuse_edit_and_delete_with_409(exec_api):
    row = computed()
    for response in (exec_api.patch(f"{API}/metrics/{row.pk}", {"value": 1}, format="json"),
                     exec_api.put(f"{API}/metrics/{row.pk}", {"value": 1}, format="json"),
                     exec_api.delete(f"{API}/metrics/{row.pk}")):  # fmt: skip
        assert response.status_code == 409
        assert error(response)["code"] == "BUSINESS_RULE_VIOLATION"
    assert KpiMetric.objects.get(pk=row.pk).value == D("97.5000")


def test_delete_a_manual_value(exec_api):
    row = exec_api.post(f"{API}/metrics", {"metric_name": "supplier_otd", "period": "2025-03", "value": 90},
                        format="json").json()  # fmt: skip
    assert exec_api.delete(f"{API}/metrics/{row['id']}/").status_code == 204
    assert not KpiMetric.objects.filter(pk=row["id"]).exists()
    assert AuditEvent.objects.filter(event_type="planning.kpi_metric.deleted", target_id=str(row["id"])).count() == 1
    assert exec_api.delete(f"{API}/metrics/{row['id']}").status_code == 404
    assert exec_api.get(f"{API}/metrics/999999").status_code == 404


def test_list_filters_ordering_and_pagination(viewer_api):
    computed("fill_rate", JAN, "95")
    computed("fill_rate", FEB, "96")
    computed("otif", MAR, "90")
    computed("gross_margin", MAR, "31")
    body = viewer_api.get(f"{API}/metrics?page_size=2").json()
    assert (body["total"], body["total_pages"], len(body["items"])) == (4, 2, 2)
    assert [i["period"] for i in body["items"]] == ["2025-03-01", "2025-03-01"]  # newest first
    assert viewer_api.get(f"{API}/metrics?category=service").json()["total"] == 3
    assert viewer_api.get(f"{API}/metrics?kpi_type=financial").json()["total"] == 1
    assert viewer_api.get(f"{API}/metrics?metric_name=fill_rate&period_from=2025-02").json()["total"] == 1
    assert viewer_api.get(f"{API}/metrics?period_start=2025-01&period_end=2025-01").json()["total"] == 1
    assert viewer_api.get(f"{API}/metrics?source=manual").json()["total"] == 0
    items = viewer_api.get(f"{API}/metrics?ordering=value").json()["items"]
    assert [i["value"] for i in items] == ["31.0000", "90.0000", "95.0000", "96.0000"]
    for bad in ("category=nope", "source=robot", "period_from=2025-13", "ordering=secret"):
        response = viewer_api.get(f"{API}/metrics?{bad}")
        assert response.status_code == 400
        assert error(response)["code"] == "INVALID_PARAMETER"
    detail = viewer_api.get(f"{API}/metrics/{items[0]['id']}").json()
    assert detail["metric_name"] == "gross_margin"
    assert detail["achievement_pct"] == "103.3333"


def test_dashboard_alerts_summary_and_trends(viewer_api):
    computed("otif", FEB, "96", status="on_target")
    computed("otif", MAR, "70", status="critical", variance_pct=D("-26.3158"))  # latest otif: critical
    computed("fill_rate", MAR, "89", status="warning", variance_pct=D("-9.1837"))
    computed("gross_margin", MAR, "31", status="on_target")
    board = viewer_api.get(f"{API}/dashboard").json()
    assert set(board) == {"demand_kpis", "supply_kpis", "inventory_kpis", "service_kpis", "financial_kpis"}
    assert [r["metric_name"] for r in board["service_kpis"]] == ["fill_rate", "otif", "otif"]
    alerts = viewer_api.get(f"{API}/alerts").json()
    assert [(a["metric_name"], a["severity"]) for a in alerts] == [("otif", "critical"), ("fill_rate", "warning")]
    assert alerts[0]["direction"] == "higher_is_better"
    assert alerts[0]["category"] == "service"
    summary = viewer_api.get(f"{API}/summary").json()
    assert summary["period"] == "2025-03-01"
    service = next(c for c in summary["by_category"] if c["category"] == "service")
    assert (service["critical"], service["warning"], service["on_target"]) == (1, 1, 0)
    # adverse: otif (95 - 70) / 95 = 26.3 %, fill (98 - 89) / 98 = 9.2 %; margin above target is not adverse
    assert [w["metric_name"] for w in summary["worst"]] == ["otif", "fill_rate"]
    trends = viewer_api.get(f"{API}/trends?metric_name=otif&metric_name=fill_rate&months=2").json()
    assert [(p["period"], p["value"]) for p in trends["series"][0]["points"]] == [("2025-02-01", "96.0000"),
                                                                               ("2025-03-01", "70.0000")]  # fmt: skip
    assert len(trends["series"][1]["points"]) == 1
    assert viewer_api.get(f"{API}/trends").status_code == 400
    assert viewer_api.get(f"{API}/trends?metric_name=otif&months=61").status_code == 400


def test_set_target_updates_the_definition_and_the_latest_row(exec_api):
    old = computed("otif", FEB, "90", status="on_target")
    latest = computed("otif", MAR, "90", status="on_target")
    response = exec_api.post(f"{API}/targets", {"metric_name": "otif", "target": 100}, format="json")
    assert response.status_code == 200
    # 90 vs 100: adverse 10 % → on target (not above 10); variance -10
    assert (response.json()["id"], response.json()["target"], response.json()["variance"]) == (
        latest.pk,
        "100.0000",
        "-10.0000",
    )
    assert KpiDefinition.objects.get(code="otif").target == D("100.0000")
    assert KpiMetric.objects.get(pk=old.pk).target == D("95.0000")  # history untouched
    exec_api.post(f"{API}/targets", {"metric_name": "otif", "target": 110, "apply_to_history": True}, format="json")
    # 90 vs 110: 18.18 % → warning, on both rows now
    assert set(KpiMetric.objects.values_list("status", flat=True)) == {"warning"}
    assert AuditEvent.objects.filter(event_type="planning.kpi_metric.target_set").count() == 2
    response = exec_api.post(f"{API}/targets", {"metric_name": "nope", "target": 1}, format="json")
    assert response.status_code == 404
    assert error(response)["code"] == "NOT_FOUND"
    response = exec_api.post(f"{API}/targets", {"metric_name": "days_of_supply", "target_low": 40,
                                                "target_high": 20}, format="json")  # fmt: skip
    assert response.status_code == 400


def test_edit_definition_thresholds_re_evaluate_every_row(exec_api):
    computed("fill_rate", MAR, "90", status="on_target")  # 98 - 90 = 8.16 % adverse
    response = exec_api.put(f"{API}/definitions/fill_rate",
                            {"warning_threshold_pct": 5, "critical_threshold_pct": 8}, format="json")  # fmt: skip
    assert response.status_code == 200, response.json()
    assert response.json()["warning_threshold_pct"] == "5.00"
    assert KpiMetric.objects.get(metric_name="fill_rate").status == "critical"  # 8.16 > 8
    event = AuditEvent.objects.get(event_type="planning.kpi_definition.updated")
    assert event.before["critical_threshold_pct"] == "20.00"
    assert event.after["critical_threshold_pct"] == "8.00"
    bad = exec_api.put(f"{API}/definitions/fill_rate", {"warning_threshold_pct": 30, "critical_threshold_pct": 20},
                       format="json")  # fmt: skip
    assert bad.status_code == 400
    assert exec_api.put(f"{API}/definitions/fill_rate", {"direction": "lower_is_better"},
                        format="json").status_code == 400  # fmt: skip
    assert exec_api.put(f"{API}/definitions/unknown_kpi", {"name": "x"}, format="json").status_code == 404


def test_refresh_up_to_three_months_runs_in_the_request(users):
    coordinator = client_for(users["sop_coordinator"])
    response = coordinator.post(f"{API}/refresh", {"period_from": "2025-01", "period_to": "2025-03"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"periods": ["2025-01-01", "2025-02-01", "2025-03-01"], "kpis_written": 0}
    # nothing to compute, nothing changed: no audit row
    assert AuditEvent.objects.filter(event_type="planning.kpi_metric.refreshed").count() == 0
    assert client_for(users["viewer"]).post(f"{API}/refresh", {}, format="json").status_code == 403
    bad = coordinator.post(f"{API}/refresh", {"period_from": "2025-03", "period_to": "2025-01"}, format="json")
    assert bad.status_code == 400


def test_refresh_of_more_months_is_queued(users, monkeypatch, django_capture_on_commit_callbacks):
    handed = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *a, **kw: handed.append((func, kw)))
    coordinator = client_for(users["sop_coordinator"])
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(f"{API}/refresh", {"period_from": "2024-01", "period_to": "2024-12"},
                                    format="json")  # fmt: skip
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["task_id"]
    assert len(body["periods"]) == 12
    assert handed[0][0] == "planning.tasks.refresh_kpis"
    assert (handed[0][1]["period_from"], handed[0][1]["period_to"]) == ("2024-01-01", "2024-12-01")
    assert handed[0][1]["job_id"] == body["task_id"]
    # the task itself accepts the strings it is handed
    from planning.tasks import refresh_kpis

    assert refresh_kpis(period_from="2024-01-01", period_to="2024-02-01")["periods"] == ["2024-01-01", "2024-02-01"]


def test_export_csv_and_xlsx_are_audited(viewer_api):
    computed("otif", MAR, "90")
    KpiMetric.objects.filter(metric_name="otif").update(unit="=HYPERLINK()")  # INT-23: text is never a formula
    computed("fill_rate", MAR, "97.5")
    response = viewer_api.get(f"{API}/export?format=csv&category=service")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["metric_name"] for r in rows] == ["fill_rate", "otif"]
    assert rows[0]["value"] == "97.5000"
    assert rows[0]["name"] == "Fill rate"
    assert rows[0]["achievement_pct"]
    assert rows[1]["unit"] == "'=HYPERLINK()"
    response = viewer_api.get(f"{API}/export?format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    events = AuditEvent.objects.filter(event_type="planning.data.exported", target_id="kpi_metrics")
    assert events.count() == 2
    assert events.order_by("pk").first().metadata["filters"] == {"category": "service"}
    assert viewer_api.get(f"{API}/export?format=pdf").status_code == 400
