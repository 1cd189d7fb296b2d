"""Promotion of forecast results into demand plans (FC-33, API-FC-26)."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from forecasting.models import Forecast
from governance.choices import Role
from governance.models import AuditEvent
from planning import services as planning
from planning.models import DemandPlan
from tests.forecasting.builders import make_run

pytestmark = pytest.mark.django_db

API = "/api/v1/forecasting/promote"
P1, P2, P3 = date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)


@pytest.fixture
def w(users, api_client_for):
    admin = users[Role.ADMIN]
    cat = planning.category_create(actor=admin, name="Audio")
    speaker = planning.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": cat})
    return SimpleNamespace(
        admin=admin, planner=users[Role.DEMAND_PLANNER], exec=users[Role.EXECUTIVE], speaker=speaker,
        finance=users[Role.FINANCE_ANALYST], finance_api=api_client_for(users[Role.FINANCE_ANALYST]),
        planner_api=api_client_for(users[Role.DEMAND_PLANNER]), exec_api=api_client_for(users[Role.EXECUTIVE]),
    )  # fmt: skip


def current(product, period, region="Global", channel="All"):
    return DemandPlan.objects.get(product=product, period=period, region=region, channel=channel, is_current=True)


def test_a_finance_analyst_promotes_the_latest_run_of_the_model_into_new_draft_rows(w):
    make_run(w.speaker, as_of=P1, predictions=[1, 1, 1], model="arima")
    make_run(w.speaker, as_of=P1, predictions=[5, 5, 5], model="exp_smoothing")
    run = make_run(w.speaker, as_of=P1, predictions=[100, 110, 120], model="exp_smoothing")
    response = w.finance_api.post(API, {"product_id": w.speaker.pk, "selected_model": "exp_smoothing", "horizon": 2,
                                        "notes": "Q1 view"}, format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json() == {
        "product_id": w.speaker.pk,
        "selected_model": "exp_smoothing",
        "run_id": run.pk,
        "records_promoted": 2,
        "periods": ["2027-01-01", "2027-02-01"],
        "skipped": [],
    }
    plan = current(w.speaker, P1)
    assert (plan.status, plan.version, plan.source) == ("draft", 1, "promotion")
    assert (plan.forecast_qty, plan.confidence, plan.consensus_qty) == (Decimal("100.00"), Decimal("80.00"), None)
    assert plan.notes == "[ForecastPromotion] model=exp_smoothing; user_note=Q1 view"
    assert plan.created_by_id == w.finance.pk
    assert not DemandPlan.objects.filter(period=P3).exists()
    event = AuditEvent.objects.get(event_type="forecasting.promotion.completed")
    assert event.target_id == str(run.pk)
    assert event.actor_id == w.finance.pk


def test_promotion_versions_drafts_sets_consensus_on_request_and_skips_what_it_must_not_touch(w):
    run = make_run(w.speaker, as_of=P1, predictions=[100, 110, 120], model="arima")
    draft = planning.demand_plan_create(actor=w.planner, product=w.speaker, data={
        "period": P1, "forecast_qty": 90, "notes": "Existing"})  # fmt: skip
    submitted = planning.demand_plan_create(actor=w.planner, product=w.speaker, data={"period": P2, "forecast_qty": 90})
    planning.demand_plan_submit(actor=w.planner, plan=submitted)
    approved = planning.demand_plan_create(actor=w.planner, product=w.speaker, data={"period": P3, "forecast_qty": 90})
    planning.demand_plan_submit(actor=w.planner, plan=approved)
    planning.demand_plan_approve(actor=w.exec, plan=approved)
    response = w.planner_api.post(API, {"product_id": w.speaker.pk, "selected_model": "arima", "run_id": run.pk,
                                        "horizon": 3, "set_consensus": True}, format="json")  # fmt: skip
    body = response.json()
    assert body["records_promoted"] == 1
    assert body["periods"] == ["2027-01-01"]
    assert body["skipped"] == [
        {
            "period": "2027-02-01",
            "plan_id": submitted.pk,
            "reason": f"Demand plan {submitted.pk} (Global/All) is submitted.",
        },
        {
            "period": "2027-03-01",
            "plan_id": approved.pk,
            "reason": f"Demand plan {approved.pk} (Global/All) is approved.",
        },
    ]
    draft.refresh_from_db()
    assert (draft.version, draft.source, draft.forecast_qty, draft.consensus_qty) == (
        2, "promotion", Decimal("100.00"), Decimal("100.00"))  # fmt: skip
    assert draft.notes == "Existing\n[ForecastPromotion] model=arima; user_note="
    assert draft.change_reason == f"Promotion of forecast run {run.pk} (arima)"
    for untouched, status in ((submitted, "submitted"), (approved, "approved")):
        untouched.refresh_from_db()
        assert (untouched.version, untouched.status, untouched.forecast_qty) == (1, status, Decimal("90.00"))


def test_promotion_of_a_total_splits_across_detail_rows(w):
    make_run(w.speaker, as_of=P1, predictions=[100], model="arima")
    a = planning.demand_plan_create(actor=w.planner, product=w.speaker, data={
        "period": P1, "region": "A", "channel": "X", "forecast_qty": 10})  # fmt: skip
    b = planning.demand_plan_create(actor=w.planner, product=w.speaker, data={
        "period": P1, "region": "B", "channel": "X", "forecast_qty": 20})  # fmt: skip
    response = w.planner_api.post(API, {"product_id": w.speaker.pk, "selected_model": "arima", "horizon": 1},
                                  format="json")  # fmt: skip
    assert response.json()["records_promoted"] == 2
    a.refresh_from_db()
    b.refresh_from_db()
    # No actuals: weights are the rows' FRM-01 quantities 10 and 20 -> 33.33 and 66.67.
    assert (a.forecast_qty, b.forecast_qty) == (Decimal("33.33"), Decimal("66.67"))
    assert not DemandPlan.objects.filter(region="Global", period=P1).exists()


def test_a_detail_series_promotes_only_its_own_row(w):
    make_run(w.speaker, as_of=P1, predictions=[40], model="arima", region="North", channel="Retail")
    response = w.planner_api.post(API, {"product_id": w.speaker.pk, "selected_model": "arima", "horizon": 1,
                                        "region": "North", "channel": "Retail"}, format="json")  # fmt: skip
    assert response.status_code == 200
    assert response.json()["records_promoted"] == 1
    assert current(w.speaker, P1, "North", "Retail").forecast_qty == Decimal("40.00")


def test_no_results_for_the_model_is_404_and_roles_are_checked(w):
    run = make_run(w.speaker, as_of=P1, predictions=[100], model="arima")
    body = {"product_id": w.speaker.pk, "selected_model": "prophet"}
    assert w.planner_api.post(API, body, format="json").status_code == 404
    Forecast.objects.filter(run=run).update(discarded_at=timezone.now())
    assert w.planner_api.post(API, {**body, "selected_model": "arima"}, format="json").status_code == 404
    assert w.exec_api.post(API, {**body, "selected_model": "arima"}, format="json").status_code == 403
    bad = w.planner_api.post(API, {**body, "horizon": 25}, format="json")
    assert bad.status_code == 400
    assert not DemandPlan.objects.exists()
