"""Anomaly detection and triage (FC-56, FC-57, WF-22, API-FC-23…25)."""

from decimal import Decimal
from types import SimpleNamespace

import numpy as np
import pytest

from forecasting import services
from forecasting.models import ForecastAnomaly
from forecasting.series import SeriesKey, add_months, last_closed_month
from forecasting.services.anomalies import detect_matrix
from governance.choices import Role
from governance.models import AuditEvent
from planning import services as planning
from planning.models import DemandPlan

pytestmark = pytest.mark.django_db

API = "/api/v1/forecasting/anomalies"


@pytest.fixture
def w(users, api_client_for):
    admin = users[Role.ADMIN]
    cat = planning.category_create(actor=admin, name="Audio")
    speaker = planning.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": cat})
    return SimpleNamespace(
        admin=admin, planner=users[Role.DEMAND_PLANNER], speaker=speaker, cat=cat,
        planner_api=api_client_for(users[Role.DEMAND_PLANNER]), exec_api=api_client_for(users[Role.EXECUTIVE]),
        viewer_api=api_client_for(users[Role.VIEWER]),
    )  # fmt: skip


def history(product, values, region="Global", channel="All", before=None):
    """Actuals for the len(values) months up to the last closed month (or up to the month before `before`),
    oldest first; returns their periods."""
    last = add_months(before, -1) if before else last_closed_month()
    periods = [add_months(last, i - len(values) + 1) for i in range(len(values))]
    DemandPlan.objects.bulk_create(
        DemandPlan(product=product, period=p, region=region, channel=channel, forecast_qty=0, actual_qty=v)
        for p, v in zip(periods, values, strict=True)
    )
    return periods


def set_actual(product, period, value):
    DemandPlan.objects.filter(product=product, period=period, is_current=True).update(actual_qty=value)


# The formulas on hand-computed examples -----------------------------------------------------------


def test_zscore_uses_the_population_sigma():
    # Nine 10s and one 50: mean 14, population sigma 12, z(50) = 36 / 12 = 3.0 -> medium.
    anomaly, high, expected, z = detect_matrix(np.array([[10.0] * 9 + [50.0]]), "zscore", 2.5)
    assert anomaly[0].tolist() == [False] * 9 + [True]
    assert not high.any()
    assert expected[0] == 14.0
    assert z[0, 9] == pytest.approx(3.0)
    assert z[0, 0] == pytest.approx(-1 / 3)
    # Fifteen 10s and one 100: z = sqrt(15) = 3.873 > 3.5 -> high.
    anomaly, high, _, z = detect_matrix(np.array([[10.0] * 15 + [100.0]]), "zscore", 2.5)
    assert high[0, 15]
    assert z[0, 15] == pytest.approx(15**0.5)


def test_zscore_needs_six_points_and_spread():
    assert not detect_matrix(np.array([[10.0, 10, 10, 10, 100]]), "zscore", 2.5)[0].any()
    assert not detect_matrix(np.array([[7.0] * 12]), "zscore", 2.5)[0].any()
    # Padded rows of different length are scored independently.
    matrix = np.array([[10.0] * 9 + [50.0], [10, 10, 10, 10, 100] + [np.nan] * 5])
    anomaly = detect_matrix(matrix, "zscore", 2.5)[0]
    assert anomaly[0, 9]
    assert not anomaly[1].any()


def test_iqr_uses_linearly_interpolated_quartiles():
    # 1..9 and 100: Q1 = 3.25, Q3 = 7.75, IQR = 4.5; fences 14.5 (k=1.5) and 21.25 (3*IQR); median 5.5.
    values = np.array([[1.0, 2, 3, 4, 5, 6, 7, 8, 9, 100], [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 20]])
    anomaly, high, expected, z = detect_matrix(values, "iqr", 1.5)
    assert anomaly[:, 9].tolist() == [True, True]
    assert anomaly[:, :9].sum() == 0
    assert high[:, 9].tolist() == [True, False]
    assert expected.tolist() == [5.5, 5.5]
    assert z is None
    assert not detect_matrix(values[1:], "iqr", 3.0)[0].any()  # 20 < 7.75 + 3 * 4.5


# Detection through the API ---------------------------------------------------------------------


def test_detect_persists_zscore_anomalies(w):
    periods = history(w.speaker, [10] * 9 + [50])
    response = w.planner_api.post(f"{API}/detect", {"product_id": w.speaker.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == [{
        "id": ForecastAnomaly.objects.get().pk, "period": periods[-1].isoformat(), "value": "50.00",
        "expected": "14.00", "severity": "medium", "z_score": "3.0000", "direction": "spike", "status": "open",
        "method": "zscore", "suggested_action": "Investigate demand spike",
    }]  # fmt: skip
    row = ForecastAnomaly.objects.get()
    assert row.detected_by_id == w.planner.pk
    assert AuditEvent.objects.filter(event_type="forecasting.anomaly.detected", target_id=str(row.pk)).exists()
    stricter = w.planner_api.post(f"{API}/detect", {"product_id": w.speaker.pk, "threshold": 3.5}, format="json")
    assert stricter.json() == []


def test_detect_iqr_drop_uses_the_median(w):
    history(w.speaker, [100, 101, 102, 103, 104, 105, 106, 107, 108, 2])
    body = w.planner_api.post(f"{API}/detect", {"product_id": w.speaker.pk, "method": "iqr"}, format="json").json()
    assert len(body) == 1
    assert body[0]["direction"] == "drop"
    assert body[0]["z_score"] is None
    assert body[0]["suggested_action"] == "Investigate demand drop"
    assert body[0]["expected"] == "103.50"
    assert body[0]["severity"] == "high"


def test_redetection_refreshes_open_and_acknowledged_rows_and_never_reopens_dismissed_ones(w):
    periods = history(w.speaker, [10] * 9 + [50])
    key = SeriesKey(w.speaker.pk)
    (row,) = services.anomalies_detect(actor=w.planner, key=key)
    services.anomaly_transition(actor=w.planner, anomaly=row, status="acknowledged")
    # Six more months of 10 before the spike, and a bigger spike: z = sqrt(15), high.
    history(w.speaker, [10] * 6, channel="All", region="Global", before=periods[0])
    set_actual(w.speaker, periods[-1], 100)
    (row,) = services.anomalies_detect(actor=w.planner, key=key)
    assert (row.status, row.value, row.severity) == ("acknowledged", Decimal("100.00"), "high")
    assert row.z_score == Decimal("3.8730")
    assert AuditEvent.objects.filter(event_type="forecasting.anomaly.updated", target_id=str(row.pk)).count() == 1
    services.anomaly_transition(actor=w.planner, anomaly=row, status="dismissed", notes="Known promotion")
    set_actual(w.speaker, periods[-1], 120)
    (again,) = services.anomalies_detect(actor=w.planner, key=key)
    assert (again.pk, again.status, again.value) == (row.pk, "dismissed", Decimal("100.00"))
    assert ForecastAnomaly.objects.count() == 1


def test_detect_validates_its_input(w):
    history(w.speaker, [10] * 9 + [50])
    assert w.planner_api.post(f"{API}/detect", {"product_id": w.speaker.pk, "method": "mad"},
                              format="json").status_code == 400  # fmt: skip
    assert w.planner_api.post(f"{API}/detect", {"product_id": w.speaker.pk, "threshold": 0},
                              format="json").status_code == 400  # fmt: skip
    assert w.planner_api.post(f"{API}/detect", {"product_id": 999999}, format="json").status_code == 400
    assert w.exec_api.post(f"{API}/detect", {"product_id": w.speaker.pk}, format="json").status_code == 403
    assert not ForecastAnomaly.objects.exists()


# Triage (WF-22) -----------------------------------------------------------------------------------


@pytest.fixture
def anomaly(w):
    history(w.speaker, [10] * 9 + [50])
    return services.anomalies_detect(actor=w.planner, key=SeriesKey(w.speaker.pk))[0]


def patch(w, row, body):
    return w.planner_api.patch(f"{API}/{row.pk}", body, format="json")


def test_every_allowed_triage_move(w, anomaly):
    response = patch(w, anomaly, {"status": "acknowledged"})
    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"
    assert set(response.json()["allowed_actions"]) == {"correct", "dismiss"}
    response = patch(w, anomaly, {"status": "corrected", "corrected_value": "12.5"})
    assert response.json()["corrected_value"] == "12.50"
    assert response.json()["resolved_by"] == w.planner.pk
    response = patch(w, anomaly, {"status": "open"})
    assert response.json()["status"] == "open"
    assert response.json()["corrected_value"] is None
    response = patch(w, anomaly, {"status": "dismissed", "notes": "Stock count error"})
    assert response.json()["status"] == "dismissed"
    assert response.json()["notes"] == "Stock count error"
    assert patch(w, anomaly, {"status": "open"}).json()["status"] == "open"
    assert patch(w, anomaly, {"status": "corrected", "corrected_value": 0}).json()["status"] == "corrected"
    events = list(AuditEvent.objects.filter(target_id=str(anomaly.pk), event_type__startswith="forecasting.anomaly.")
                  .order_by("id").values_list("event_type", flat=True))  # fmt: skip
    assert events == ["forecasting.anomaly.detected", "forecasting.anomaly.acknowledged",
                      "forecasting.anomaly.corrected", "forecasting.anomaly.reopened", "forecasting.anomaly.dismissed",
                      "forecasting.anomaly.reopened", "forecasting.anomaly.corrected"]  # fmt: skip


def test_refused_triage_moves(w, anomaly):
    assert patch(w, anomaly, {"status": "corrected"}).status_code == 400
    assert patch(w, anomaly, {"status": "corrected", "corrected_value": -1}).status_code == 400
    assert patch(w, anomaly, {"status": "dismissed"}).status_code == 400
    assert patch(w, anomaly, {"status": "bogus"}).status_code == 400
    assert w.exec_api.patch(f"{API}/{anomaly.pk}", {"status": "acknowledged"}, format="json").status_code == 403
    patch(w, anomaly, {"status": "corrected", "corrected_value": 10})
    response = patch(w, anomaly, {"status": "acknowledged"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "INVALID_STATE_TRANSITION"
    assert response.json()["detail"]["context"]["current_status"] == "corrected"
    assert response.json()["detail"]["context"]["allowed_actions"] == ["reopen"]
    assert patch(w, anomaly, {"status": "dismissed", "notes": "x"}).status_code == 409
    anomaly.refresh_from_db()
    assert (anomaly.status, anomaly.corrected_value) == ("corrected", Decimal("10.00"))


def test_list_filters_and_roles(w, anomaly):
    listed = w.exec_api.get(API, {"severity": "medium"}).json()
    assert listed["total"] == 1
    assert listed["items"][0]["sku"] == "SPK-1"
    assert w.exec_api.get(API, {"status": "dismissed"}).json()["total"] == 0
    assert w.exec_api.get(API, {"status": "nope"}).status_code == 400
    assert w.viewer_api.get(API).status_code == 403


# Nightly batch (FC-57) ----------------------------------------------------------------------------


def test_scan_active_detects_on_every_active_product_total(w):
    mower = planning.product_create(actor=w.admin, data={"sku": "MOW-1", "name": "Mower", "category": w.cat})
    old = planning.product_create(actor=w.admin, data={"sku": "OLD-1", "name": "Old", "category": w.cat})
    history(w.speaker, [10] * 9 + [50])
    history(mower, [10] * 15 + [100])
    history(old, [10] * 15 + [100])
    planning.product_discontinue(actor=w.admin, product=old)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert services.anomalies_scan_active() == 2
    assert len(queries) < 15  # set-based: the count does not grow with the number of products
    rows = {r.product_id: r for r in ForecastAnomaly.objects.all()}
    assert set(rows) == {w.speaker.pk, mower.pk}
    assert rows[mower.pk].severity == "high"
    assert rows[mower.pk].detected_by_id is None
    assert services.anomalies_scan_active() == 0  # nothing changed since
    assert AuditEvent.objects.filter(event_type="forecasting.anomaly.detected", actor=None).count() == 2
