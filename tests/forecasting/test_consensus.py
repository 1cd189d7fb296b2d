"""Consensus (FC-03, FC-30…34, WF-20, FRM-28/29): what a planner and an approver see over the API and in the DB."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from forecasting import services
from forecasting.models import ForecastConsensus
from forecasting.series import add_months, last_closed_month
from governance.choices import Role
from governance.models import AuditEvent, Comment
from planning import services as planning
from planning.models import DemandPlan
from tests.forecasting.builders import make_run

pytestmark = pytest.mark.django_db

API = "/api/v1/forecasting/consensus"
P1, P2, P3 = date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)


@pytest.fixture
def w(users, api_client_for):
    admin = users[Role.ADMIN]
    cat = planning.category_create(actor=admin, name="Audio")
    speaker = planning.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": cat})
    run = make_run(speaker, as_of=P1, predictions=[100, 110, 120])
    return SimpleNamespace(
        users=users, admin=admin, planner=users[Role.DEMAND_PLANNER], finance=users[Role.FINANCE_ANALYST],
        exec=users[Role.EXECUTIVE], coordinator=users[Role.SOP_COORDINATOR], speaker=speaker, run=run,
        planner_api=api_client_for(users[Role.DEMAND_PLANNER]), exec_api=api_client_for(users[Role.EXECUTIVE]),
        finance_api=api_client_for(users[Role.FINANCE_ANALYST]), viewer_api=api_client_for(users[Role.VIEWER]),
        client_for=api_client_for,
    )  # fmt: skip


def create(w, actor=None, run=None, period=P1, **data):
    body = {"forecast_run_audit_id": (run or w.run).pk, "period": period, **data}
    return services.consensus_create(actor=actor or w.planner, data=body)


def proposed(w, **data):
    return services.consensus_propose(actor=w.planner, consensus=create(w, **data))


def error(response) -> dict:
    return response.json()["error"]


# FRM-28 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "pre", "final"),
    [
        # 100 + 20 + 5.5 - 30 = 95.50, capped at 90
        ({"baseline": 100, "sales_override": 20, "marketing_uplift": "5.5", "finance_adjustment": -30,
          "constraint_cap": 90}, "95.50", "90.00"),
        # a cap above the pre-consensus leaves it unchanged
        ({"baseline": "80.125", "constraint_cap": 500}, "80.13", "80.13"),
        # negative sums floor at 0
        ({"baseline": 10, "finance_adjustment": -25}, "0.00", "0.00"),
        ({"baseline": 10, "sales_override": 5, "constraint_cap": 0}, "15.00", "0.00"),
    ],
)  # fmt: skip
def test_frm28_quantities(inputs, pre, final):
    assert services.consensus_quantities(**inputs) == (Decimal(pre), Decimal(final))


def test_create_defaults_the_baseline_to_the_runs_prediction_and_computes_frm28(w):
    response = w.planner_api.post(API, {"forecast_run_audit_id": w.run.pk, "period": "2027-02",
                                        "sales_override_qty": "15.50", "finance_adjustment_qty": "-5",
                                        "constraint_cap_qty": "118"}, format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["baseline_qty"] == "110.00"
    assert body["pre_consensus_qty"] == "120.50"
    assert body["final_consensus_qty"] == "118.00"
    assert body["status"] == "draft"
    assert body["version"] == 1
    assert body["sku"] == "SPK-1"
    assert body["product_name"] == "Speaker"
    assert body["forecast_run_audit_id"] == w.run.pk
    assert set(body["allowed_actions"]) == {"edit", "propose", "delete"}
    assert response["ETag"] == 'W/"1"'
    assert AuditEvent.objects.filter(event_type="forecasting.consensus.created", target_id=str(body["id"])).exists()


def test_create_refusals(w):
    ok = {"forecast_run_audit_id": w.run.pk, "period": "2027-01"}
    missing = w.planner_api.post(API, {**ok, "forecast_run_audit_id": 999999}, format="json")
    assert missing.status_code == 404
    other = planning.product_create(actor=w.admin, data={"sku": "X-1", "name": "Other"})
    assert error(w.planner_api.post(API, {**ok, "product_id": other.pk}, format="json"))["code"] == "VALIDATION_ERROR"
    wrong_region = w.planner_api.post(API, {**ok, "region": "North"}, format="json")
    assert wrong_region.status_code == 400
    assert "region" in wrong_region.json()["detail"]["fields"]
    wrong_period = w.planner_api.post(API, {**ok, "period": "2027-06"}, format="json")
    assert wrong_period.status_code == 400
    assert "period" in wrong_period.json()["detail"]["fields"]
    assert w.planner_api.post(API, ok, format="json").status_code == 201
    duplicate = w.planner_api.post(API, ok, format="json")
    assert duplicate.status_code == 409
    assert error(duplicate)["code"] == "DUPLICATE_ENTITY"
    assert w.viewer_api.post(API, ok, format="json").status_code == 403
    assert w.exec_api.post(API, ok, format="json").status_code == 403  # executives approve, they do not edit
    assert ForecastConsensus.objects.count() == 1


def test_create_as_proposed(w):
    response = w.finance_api.post(API, {"forecast_run_audit_id": w.run.pk, "period": "2027-01",
                                        "status": "proposed"}, format="json")  # fmt: skip
    assert response.status_code == 201
    assert response.json()["status"] == "proposed"
    assert response.json()["proposed_by"] == w.finance.pk


# Edit (WF-20, versions) -----------------------------------------------------------------------


def test_edit_keeps_a_history_row_and_returns_a_proposed_row_to_draft(w):
    row = proposed(w)
    response = w.planner_api.patch(f"{API}/{row.pk}", {"sales_override_qty": "12.25", "notes": "Promo"},
                                   format="json", HTTP_IF_MATCH='W/"1"')  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 2
    assert body["status"] == "draft"
    assert body["pre_consensus_qty"] == "112.25"
    assert body["final_consensus_qty"] == "112.25"
    assert body["id"] == row.pk  # the live row keeps its id
    history = ForecastConsensus.objects.get(history_of=row)
    assert (history.version, history.is_current, history.status) == (1, False, "proposed")
    assert history.sales_override_qty == 0
    versions = w.planner_api.get(f"{API}/{row.pk}/versions").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert set(versions[0]["changed_fields"]) == {"sales_override_qty", "notes", "pre_consensus_qty",
                                                  "final_consensus_qty"}  # fmt: skip
    assert AuditEvent.objects.filter(event_type="forecasting.consensus.updated", target_id=str(row.pk)).count() == 1


def test_edit_that_changes_nothing_makes_no_version_and_stale_versions_are_refused(w):
    row = create(w)
    same = w.planner_api.patch(f"{API}/{row.pk}", {"baseline_qty": "100.00"}, format="json")
    assert same.status_code == 200
    assert same.json()["version"] == 1
    stale = w.planner_api.patch(f"{API}/{row.pk}", {"baseline_qty": "90", "expected_version": 3}, format="json")
    assert stale.status_code == 409
    assert error(stale)["code"] == "STALE_VERSION"
    assert ForecastConsensus.objects.count() == 1


def test_patch_status_shorthand(w):
    row = create(w)
    response = w.planner_api.patch(f"{API}/{row.pk}", {"status": "proposed"}, format="json")
    assert response.json()["status"] == "proposed"
    assert response.json()["version"] == 1
    response = w.planner_api.patch(f"{API}/{row.pk}", {"status": "draft"}, format="json")
    assert response.json()["status"] == "draft"
    assert response.json()["proposed_by"] is None
    for refused in ("approved", "frozen", "superseded", "bogus"):
        bad = w.planner_api.patch(f"{API}/{row.pk}", {"status": refused}, format="json")
        assert bad.status_code == 400, refused
        assert "status" in bad.json()["detail"]["fields"], refused
    assert AuditEvent.objects.filter(event_type="forecasting.consensus.withdrawn").count() == 1


# Transitions ----------------------------------------------------------------------------------


def test_propose_and_illegal_moves_answer_409_with_context(w):
    row = create(w)
    response = w.finance_api.post(f"{API}/{row.pk}/propose", {"comment": "Ready"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "proposed"
    again = w.finance_api.post(f"{API}/{row.pk}/propose", {}, format="json")
    assert again.status_code == 409
    assert error(again)["code"] == "INVALID_STATE_TRANSITION"
    assert again.json()["detail"]["context"] == {"current_status": "proposed", "action": "propose",
                                                 "allowed_actions": ["edit", "return", "approve"]}  # fmt: skip
    assert w.planner_api.delete(f"{API}/{row.pk}").status_code == 409
    assert AuditEvent.objects.filter(event_type="forecasting.consensus.proposed", target_id=str(row.pk)).exists()
    assert Comment.objects.filter(entity_type="forecast_consensus", entity_id=str(row.pk), content="Ready").exists()


def test_return_needs_ops_and_a_comment_and_records_a_return_comment(w):
    row = proposed(w)
    assert w.planner_api.post(f"{API}/{row.pk}/return", {"comment": "x"}, format="json").status_code == 403
    no_comment = w.exec_api.post(f"{API}/{row.pk}/return", {"comment": "  "}, format="json")
    assert no_comment.status_code == 400
    response = w.exec_api.post(f"{API}/{row.pk}/return", {"comment": "Too optimistic"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "draft"
    comment = Comment.objects.get(entity_type="forecast_consensus", entity_id=str(row.pk))
    assert (comment.kind, comment.content, comment.user_id) == ("return", "Too optimistic", w.exec.pk)
    event = AuditEvent.objects.get(event_type="forecasting.consensus.returned", target_id=str(row.pk))
    assert event.message == "Too optimistic"
    assert event.before["status"] == "proposed"
    again = w.exec_api.post(f"{API}/{row.pk}/return", {"comment": "again"}, format="json")
    assert again.status_code == 409
    assert error(again)["code"] == "INVALID_STATE_TRANSITION"


def test_the_proposer_cannot_approve(w, settings):
    settings.ENFORCE_SEGREGATION_OF_DUTIES = True
    row = services.consensus_propose(actor=w.coordinator, consensus=create(w, actor=w.coordinator))
    api = w.client_for(w.coordinator)
    assert "approve" not in api.get(f"{API}/{row.pk}").json()["allowed_actions"]
    response = api.post(f"{API}/{row.pk}/approve", {}, format="json")
    assert response.status_code == 403
    assert error(response)["code"] == "SELF_APPROVAL_FORBIDDEN"
    assert ForecastConsensus.objects.get(pk=row.pk).status == "proposed"
    assert not DemandPlan.objects.exists()


def test_approve_a_draft_or_edit_an_approved_row_is_409(w):
    row = create(w)
    response = w.exec_api.post(f"{API}/{row.pk}/approve", {}, format="json")
    assert response.status_code == 409
    assert error(response)["code"] == "INVALID_STATE_TRANSITION"
    services.consensus_approve(actor=w.exec, consensus=services.consensus_propose(actor=w.planner, consensus=row))
    edit = w.planner_api.patch(f"{API}/{row.pk}", {"sales_override_qty": 1}, format="json")
    assert edit.status_code == 409
    assert edit.json()["detail"]["context"]["current_status"] == "approved"
    assert w.planner_api.patch(f"{API}/{row.pk}", {"status": "proposed"}, format="json").status_code == 409
    assert w.planner_api.delete(f"{API}/{row.pk}").status_code == 409


def test_delete_a_draft_removes_live_and_history_rows(w):
    row = create(w)
    services.consensus_update(actor=w.planner, consensus=row, data={"baseline_qty": 90})
    assert ForecastConsensus.objects.count() == 2
    assert w.planner_api.delete(f"{API}/{row.pk}").status_code == 204
    assert not ForecastConsensus.objects.exists()
    event = AuditEvent.objects.get(event_type="forecasting.consensus.deleted", target_id=str(row.pk))
    assert event.before["baseline_qty"] == "90.00"


# Approval pushes into demand plans (FC-32) ---------------------------------------------------------------


def test_approve_creates_a_missing_total_plan_row_as_a_draft(w):
    row = proposed(w, sales_override_qty=5)  # final 105
    response = w.exec_api.post(f"{API}/{row.pk}/approve", {"notes": "Agreed"}, format="json")
    assert response.status_code == 200, response.content
    plan = DemandPlan.objects.get(product=w.speaker, period=P1, is_current=True)
    assert (plan.status, plan.version, plan.source) == ("draft", 1, "consensus")
    assert (plan.forecast_qty, plan.consensus_qty) == (Decimal("100.00"), Decimal("105.00"))
    assert plan.change_reason == f"Consensus {w.run.pk}/2027-01 v1 approved"
    assert plan.created_by_id == w.exec.pk
    body = response.json()
    assert body["status"] == "approved"
    assert body["approved_by"] == w.exec.pk
    assert body["pushed_to"] == [{"plan_id": plan.pk, "version": 1, "qty": "105.00"}]
    assert Comment.objects.get(entity_type="forecast_consensus", entity_id=str(row.pk)).kind == "approval"
    assert AuditEvent.objects.filter(event_type="forecasting.consensus.approved", target_id=str(row.pk)).exists()


def test_approve_versions_existing_rows_and_withdraws_submitted_ones_first(w):
    plan = planning.demand_plan_create(actor=w.planner, product=w.speaker, data={"period": P1, "forecast_qty": 90})
    planning.demand_plan_submit(actor=w.planner, plan=plan)
    row = proposed(w, marketing_uplift_qty="7.5")
    services.consensus_approve(actor=w.coordinator, consensus=row)
    plan.refresh_from_db()
    assert (plan.status, plan.version, plan.source) == ("draft", 2, "consensus")
    assert plan.consensus_qty == Decimal("107.50")
    assert plan.forecast_qty == Decimal("90.00")
    assert plan.change_reason == f"Consensus {w.run.pk}/2027-01 v1 approved"
    history = DemandPlan.objects.get(history_of=plan)
    assert (history.version, history.consensus_qty, history.source) == (1, None, "manual")
    assert AuditEvent.objects.filter(event_type="planning.demand_plan.withdrawn", target_id=str(plan.pk),
                                     actor=w.coordinator).exists()  # fmt: skip
    row.refresh_from_db()
    assert row.pushed_to == [{"plan_id": plan.pk, "version": 2, "qty": "107.50"}]


def test_approve_splits_a_total_across_detail_rows_by_frm29(w):
    last = last_closed_month()
    north = planning.demand_plan_create(actor=w.admin, product=w.speaker, data={
        "period": P1, "region": "North", "channel": "Retail", "forecast_qty": 1})  # fmt: skip
    south = planning.demand_plan_create(actor=w.admin, product=w.speaker, data={
        "period": P1, "region": "South", "channel": "Online", "forecast_qty": 1})  # fmt: skip
    # Actuals in the last 12 closed months: North 200 + 100 = 300, South 100 -> weights 3:1.
    for region, channel, month, qty in (
        ("North", "Retail", 0, 200),
        ("North", "Retail", -11, 100),
        ("South", "Online", -1, 100),
        ("South", "Online", -12, 900),
    ):
        planning.demand_plan_create(actor=w.admin, product=w.speaker, data={
            "period": add_months(last, month), "region": region, "channel": channel, "forecast_qty": 0,
            "actual_qty": qty})  # fmt: skip
    row = proposed(w, baseline_qty="100.01")  # 100.01 * 3/4 = 75.0075 -> 75.01; * 1/4 = 25.0025 -> 25.00
    services.consensus_approve(actor=w.exec, consensus=row)
    north.refresh_from_db()
    south.refresh_from_db()
    assert (north.consensus_qty, south.consensus_qty) == (Decimal("75.01"), Decimal("25.00"))
    assert north.version == south.version == 2
    assert north.source == "consensus"
    row.refresh_from_db()
    assert {p["plan_id"]: p["qty"] for p in row.pushed_to} == {north.pk: "75.01", south.pk: "25.00"}


def test_frm29_rounding_remainder_goes_to_the_heaviest_row_lowest_id_on_ties():
    from forecasting.services.promotion import split_quantity

    assert split_quantity(Decimal("100"), [1, 1, 1], [5, 3, 9]) == [Decimal("33.33"), Decimal("33.34"),
                                                                    Decimal("33.33")]  # fmt: skip
    assert split_quantity(Decimal("0.05"), [1, 1], [7, 4]) == [Decimal("0.03"), Decimal("0.02")]
    assert split_quantity(Decimal("10"), [2, 1], [1, 2]) == [Decimal("6.67"), Decimal("3.33")]
    assert split_quantity(Decimal("10"), [1, 2, 2], [1, 3, 2]) == [Decimal("2.00"), Decimal("4.00"), Decimal("4.00")]
    assert split_quantity(Decimal("1"), [0, 0, 0], [1, 2, 3]) == [Decimal("0.34"), Decimal("0.33"), Decimal("0.33")]


def test_frm29_falls_back_to_the_plan_quantity_when_there_are_no_actuals(w):
    from forecasting.services.promotion import disaggregate

    a = planning.demand_plan_create(actor=w.admin, product=w.speaker, data={
        "period": P1, "region": "A", "channel": "X", "forecast_qty": 10, "adjusted_qty": 30})  # fmt: skip
    b = planning.demand_plan_create(actor=w.admin, product=w.speaker, data={
        "period": P1, "region": "B", "channel": "X", "forecast_qty": 10})  # fmt: skip
    assert disaggregate(Decimal("50"), [a, b]) == {a.pk: Decimal("37.50"), b.pk: Decimal("12.50")}


def test_an_approved_or_locked_target_refuses_the_approval_and_writes_nothing(w):
    plan = planning.demand_plan_create(actor=w.planner, product=w.speaker, data={"period": P1, "forecast_qty": 90})
    planning.demand_plan_submit(actor=w.planner, plan=plan)
    planning.demand_plan_approve(actor=w.exec, plan=plan)
    row = proposed(w)
    audits = AuditEvent.objects.count()
    response = w.exec_api.post(f"{API}/{row.pk}/approve", {}, format="json")
    assert response.status_code == 409
    assert error(response)["code"] == "ENTITY_LOCKED"
    assert response.json()["detail"]["context"]["plans"] == [
        {"plan_id": plan.pk, "status": "approved", "region": "Global", "channel": "All", "period": "2027-01-01"}
    ]
    plan.refresh_from_db()
    assert (plan.version, plan.status, plan.consensus_qty) == (1, "approved", None)
    assert ForecastConsensus.objects.get(pk=row.pk).status == "proposed"
    assert AuditEvent.objects.count() == audits


def test_a_newer_approval_supersedes_the_previous_approved_consensus(w):
    first = proposed(w)
    services.consensus_approve(actor=w.exec, consensus=first)
    newer_run = make_run(w.speaker, as_of=P1, predictions=[130, 140])
    second = services.consensus_propose(actor=w.planner, consensus=create(w, run=newer_run))
    services.consensus_approve(actor=w.exec, consensus=second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("superseded", "approved")
    plan = DemandPlan.objects.get(product=w.speaker, period=P1, is_current=True)
    assert (plan.version, plan.consensus_qty) == (2, Decimal("130.00"))
    assert second.pushed_to == [{"plan_id": plan.pk, "version": 2, "qty": "130.00"}]
    event = AuditEvent.objects.get(event_type="forecasting.consensus.superseded", target_id=str(first.pk))
    assert event.metadata["superseded_by"] == second.pk


def test_freeze_for_plans_freezes_the_consensus_pushed_to_a_locked_plan(w):
    row = proposed(w)
    services.consensus_approve(actor=w.exec, consensus=row)
    other = services.consensus_approve(actor=w.exec, consensus=proposed(w, period=P2))
    plan = DemandPlan.objects.get(product=w.speaker, period=P1, is_current=True)
    from django.db import transaction

    with transaction.atomic():
        assert services.consensus_freeze_for_plans(plan_ids=[plan.pk]) == 1
        assert services.consensus_freeze_for_plans(plan_ids=[plan.pk]) == 0  # already frozen
    row.refresh_from_db()
    other.refresh_from_db()
    assert row.status == "frozen"
    assert row.frozen_at is not None
    assert other.status == "approved"
    assert AuditEvent.objects.filter(event_type="forecasting.consensus.frozen", target_id=str(row.pk)).count() == 1


def test_list_filters_history_and_export(w):
    row = create(w)
    services.consensus_update(actor=w.planner, consensus=row, data={"baseline_qty": 95})
    create(w, period=P2)
    listed = w.viewer_api.get(API)
    assert listed.status_code == 403
    rows = w.finance_api.get(API).json()
    assert [(r["period"], r["version"]) for r in rows] == [("2027-01-01", 2), ("2027-02-01", 1)]
    with_history = w.finance_api.get(API, {"include_history": "true", "period_to": "2027-01"}).json()
    assert [r["version"] for r in with_history] == [2, 1]
    assert w.finance_api.get(API, {"status": "approved"}).json() == []
    assert w.finance_api.get(API, {"status": "nope"}).status_code == 400
    export = w.finance_api.get(f"{API}/export", {"format": "csv"})
    assert export.status_code == 200
    lines = b"".join(export.streaming_content).decode().strip().splitlines()
    assert lines[0].startswith("id,forecast_run_id,product_id,sku")
    assert len(lines) == 3
    xlsx = w.finance_api.get(f"{API}/export", {"format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith("application/vnd.openxml")
    assert w.finance_api.get(f"{API}/export", {"format": "pdf"}).status_code == 400
    assert AuditEvent.objects.filter(event_type="forecasting.consensus.exported").count() == 2


def test_scope_hides_rows_of_other_categories(w, make_user):
    from governance.services.scopes import user_scopes_set

    garden = planning.category_create(actor=w.admin, name="Garden")
    scoped = make_user(Role.DEMAND_PLANNER)
    user_scopes_set(actor=w.admin, user=scoped, scopes=[{"type": "category", "id": garden.pk, "access": "change"}])
    row = create(w)
    api = w.client_for(scoped)
    assert api.get(API).json() == []
    assert api.get(f"{API}/{row.pk}").status_code == 404
    assert api.post(API, {"forecast_run_audit_id": w.run.pk, "period": "2027-02"}, format="json").status_code == 404


def test_decision_comments_are_listed_on_the_consensus(w):
    row = proposed(w)
    w.exec_api.post(f"{API}/{row.pk}/return", {"comment": "Check the promo"}, format="json")
    response = w.finance_api.get("/api/v1/comments", {"entity_type": "forecast_consensus", "entity_id": row.pk})
    assert response.status_code == 200, response.content
    assert [(c["kind"], c["content"]) for c in response.json()["items"]] == [("return", "Check the promo")]
    assert w.viewer_api.get("/api/v1/comments", {"entity_type": "forecast_consensus",
                                                 "entity_id": row.pk}).status_code == 404  # fmt: skip


def test_the_list_reads_in_a_constant_number_of_queries(w):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # Users are read once per role a row names (proposer, creator, ...): both reads see the same roles.
    services.consensus_propose(actor=w.planner, consensus=create(w))
    w.finance_api.get(API)  # the first call of a token also records its use
    with CaptureQueriesContext(connection) as one:
        assert len(w.finance_api.get(API).json()) == 1
    create(w, period=P2)
    services.consensus_propose(actor=w.planner, consensus=create(w, period=P3))
    with CaptureQueriesContext(connection) as three:
        assert len(w.finance_api.get(API).json()) == 3
    assert len(three) == len(one)


def _row_in(w, state: str):
    """A consensus row of the run in `state`, reached through the services."""
    from django.db import transaction

    row = create(w)
    if state == "draft":
        return row
    row = services.consensus_propose(actor=w.planner, consensus=row)
    if state == "proposed":
        return row
    row = services.consensus_approve(actor=w.exec, consensus=row)
    if state == "frozen":
        with transaction.atomic():
            services.consensus_freeze_for_plans(plan_ids=[p["plan_id"] for p in row.pushed_to])
    if state == "superseded":
        newer = make_run(w.speaker, as_of=P1, predictions=[90])
        services.consensus_approve(
            actor=w.exec, consensus=services.consensus_propose(actor=w.planner, consensus=create(w, run=newer))
        )
    row.refresh_from_db()
    assert row.status == state
    return row


_ACTIONS = {
    "edit": ("patch", "", {"sales_override_qty": "1"}),
    "propose": ("post", "/propose", {}),
    "return": ("post", "/return", {"comment": "No"}),
    "approve": ("post", "/approve", {}),
    "delete": ("delete", "", None),
}
_ALLOWED = {
    "draft": {"edit", "propose", "delete"},
    "proposed": {"edit", "return", "approve"},
    "approved": set(),
    "frozen": set(),
    "superseded": set(),
}


@pytest.mark.parametrize("state", list(_ALLOWED))
@pytest.mark.parametrize("action", list(_ACTIONS))
def test_wf20_transition_map(w, state, action):
    row = _row_in(w, state)
    method, suffix, body = _ACTIONS[action]
    api = w.client_for(w.admin)
    url = f"{API}/{row.pk}{suffix}"
    response = getattr(api, method)(url, body, format="json") if body is not None else api.delete(url)
    if action in _ALLOWED[state]:
        assert response.status_code in (200, 204), response.content
        return
    assert response.status_code == 409, response.content
    assert error(response)["code"] == "INVALID_STATE_TRANSITION"
    context = response.json()["detail"]["context"]
    assert context["current_status"] == state
    assert context["action"] == action
    assert set(context["allowed_actions"]) == _ALLOWED[state]
    row_after = ForecastConsensus.objects.get(pk=row.pk)
    assert (row_after.status, row_after.version) == (state, row.version)


def test_approval_roles(w):
    row = proposed(w)
    for role in (Role.DEMAND_PLANNER, Role.SUPPLY_PLANNER, Role.FINANCE_ANALYST, Role.VIEWER):
        response = w.client_for(w.users[role]).post(f"{API}/{row.pk}/approve", {}, format="json")
        assert response.status_code == 403, role
    # Executives hold no demand-plan permission; the consensus approval still writes the plan rows.
    assert w.exec_api.post(f"{API}/{row.pk}/approve", {}, format="json").status_code == 200
    assert DemandPlan.objects.get(is_current=True).updated_by_id == w.exec.pk
