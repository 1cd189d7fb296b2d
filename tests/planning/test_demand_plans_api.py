"""Demand planning API (API-DEM-01…13, 15): what an integration or the console sees over HTTP."""

from datetime import date
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.choices import Role
from governance.models import AuditEvent
from governance.services.scopes import user_scopes_set
from planning import services
from planning.models import DemandPlan

pytestmark = pytest.mark.django_db

API = "/api/v1/demand/plans"


@pytest.fixture
def w(users, api_client_for):
    admin = users[Role.ADMIN]
    audio = services.category_create(actor=admin, name="Audio")
    garden = services.category_create(actor=admin, name="Garden")
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": audio})
    mower = services.product_create(actor=admin, data={"sku": "MOW-1", "name": "Mower", "category": garden})
    return SimpleNamespace(
        users=users, admin=admin, planner=users[Role.DEMAND_PLANNER], exec=users[Role.EXECUTIVE],
        audio=audio, garden=garden, speaker=speaker, mower=mower,
        planner_api=api_client_for(users[Role.DEMAND_PLANNER]), exec_api=api_client_for(users[Role.EXECUTIVE]),
        client_for=api_client_for,
    )  # fmt: skip


def make(w, product=None, actor=None, **data):
    data = {"period": date(2026, 3, 1), "forecast_qty": 100, **data}
    return services.demand_plan_create(actor=actor or w.planner, product=product or w.speaker, data=data)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["detail"]["code"] == code
    return body["detail"]


# Create, read -----------------------------------------------------------------


def test_create_normalises_the_period_and_answers_the_full_representation(w):
    response = w.planner_api.post(
        API, {"product_id": w.speaker.pk, "period": "2026-03", "region": " EU ", "forecast_qty": "120.5",
              "adjusted_qty": 110, "confidence": 80}, format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["period"] == "2026-03-01"
    assert (body["region"], body["channel"], body["status"], body["version"]) == ("EU", "All", "draft", 1)
    assert (body["sku"], body["product_name"], body["product_id"]) == ("SPK-1", "Speaker", w.speaker.pk)
    assert (body["forecast_qty"], body["demand_qty"]) == ("120.50", "110.00")
    assert body["created_by"] == w.planner.pk
    assert body["created_by_name"] == w.planner.full_name
    assert body["allowed_actions"] == ["edit", "record_actual", "submit", "delete"]
    assert response["ETag"] == 'W/"1"'
    event = AuditEvent.objects.get(event_type="planning.demand_plan.created")
    assert (event.actor_id, event.target_id) == (w.planner.pk, str(body["id"]))


@pytest.mark.parametrize(
    ("extra", "code"),
    [({"region": "EU"}, "DUPLICATE_ENTITY"), ({"region": "Global"}, "GRANULARITY_CONFLICT")],
)
def test_create_conflicts_answer_409(w, extra, code):
    make(w, region="EU")
    body = {"product_id": w.speaker.pk, "period": "2026-03-15", "forecast_qty": 1, **extra}
    assert_error(w.planner_api.post(API, body, format="json"), 409, code)
    assert DemandPlan.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [{"period": "2026-13", "forecast_qty": 1}, {"period": "1999-12", "forecast_qty": 1},
     {"period": "2026-03", "forecast_qty": -1}, {"period": "2026-03", "forecast_qty": 1, "confidence": 101},
     {"period": "2026-03", "forecast_qty": 1, "region": ""}],
)  # fmt: skip
def test_create_refuses_bad_values_with_400(w, body):
    response = w.planner_api.post(API, {"product_id": w.speaker.pk, **body}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR")


def test_detail_carries_an_etag_and_history_rows_are_readable(w):
    plan = make(w)
    services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": 5})
    response = w.planner_api.get(f"{API}/{plan.pk}")
    assert response["ETag"] == 'W/"2"'
    history = DemandPlan.objects.get(history_of=plan)
    body = w.planner_api.get(f"{API}/{history.pk}").json()
    assert (body["is_current"], body["history_of"], body["version"], body["allowed_actions"]) == (
        False, plan.pk, 1, [],
    )  # fmt: skip


def test_list_shows_current_rows_in_default_order_and_filters(w):
    a = make(w, period=date(2026, 3, 1))
    b = make(w, period=date(2026, 4, 1))
    c = make(w, product=w.mower, period=date(2026, 4, 1))
    services.demand_plan_update(actor=w.planner, plan=a, data={"forecast_qty": 1})
    services.demand_plan_submit(actor=w.planner, plan=b)

    def ids(query=""):
        response = w.planner_api.get(f"{API}?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["items"]]

    assert ids() == [c.pk, b.pk, a.pk]  # -period, sku
    assert ids("status=submitted") == [b.pk]
    assert ids("status=draft,submitted&period_to=2026-03") == [a.pk]
    assert ids(f"category_id={w.garden.pk}") == [c.pk]
    assert ids("search=spk") == [b.pk, a.pk]
    assert len(ids("include_history=true")) == 4
    assert ids("ordering=sku,period") == [c.pk, a.pk, b.pk]
    assert_error(w.planner_api.get(f"{API}?status=bogus"), 400, "INVALID_PARAMETER")
    assert_error(w.planner_api.get(f"{API}?ordering=notes"), 400, "INVALID_PARAMETER")


def test_list_query_count_does_not_grow_with_rows(w):
    def count_queries() -> int:
        client = w.client_for(w.planner)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(API).status_code == 200
        return len(ctx.captured_queries)

    # The user references are fetched per kind, so the first row already has a submitter.
    services.demand_plan_submit(actor=w.planner, plan=make(w, period=date(2026, 1, 1)))
    few = count_queries()
    for month in range(2, 10):
        plan = make(w, period=date(2026, month, 1))
        services.demand_plan_submit(actor=w.planner, plan=plan)
    assert count_queries() == few


# Update and versions --------------------------------------------------------------


def test_patch_makes_a_version_and_the_versions_endpoint_lists_them_newest_first(w):
    plan = make(w, notes="v1")
    response = w.planner_api.patch(
        f"{API}/{plan.pk}", {"forecast_qty": 130, "change_reason": "promo"}, format="json", HTTP_IF_MATCH='W/"1"'
    )
    assert response.status_code == 200, response.content
    assert (response.json()["version"], response["ETag"]) == (2, 'W/"2"')
    w.planner_api.post(f"{API}/{plan.pk}/adjust", {"adjusted_qty": 125, "notes": "v3"}, format="json")
    versions = w.planner_api.get(f"{API}/{plan.pk}/versions").json()
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert versions[0]["changed_fields"] == ["adjusted_qty", "notes"]
    assert versions[1]["changed_fields"] == ["forecast_qty"]
    assert (versions[1]["change_reason"], versions[2]["forecast_qty"], versions[2]["notes"]) == (
        "promo",
        "100.00",
        "v1",
    )
    assert versions[0]["changed_by_name"] == w.planner.full_name


@pytest.mark.parametrize("how", ["if-match", "body"])
def test_a_stale_version_is_409_and_the_row_is_unchanged(w, how):
    plan = make(w)
    services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": 5})
    before = DemandPlan.objects.filter(pk=plan.pk).values().get()
    if how == "if-match":
        response = w.planner_api.patch(f"{API}/{plan.pk}", {"forecast_qty": 7}, format="json", HTTP_IF_MATCH='W/"1"')
    else:
        response = w.planner_api.patch(f"{API}/{plan.pk}", {"forecast_qty": 7, "expected_version": 1}, format="json")
    assert_error(response, 409, "STALE_VERSION")
    assert DemandPlan.objects.filter(pk=plan.pk).values().get() == before


def test_a_status_change_in_the_body_is_refused(w):
    plan = make(w)
    assert w.planner_api.patch(f"{API}/{plan.pk}", {"status": "draft"}, format="json").status_code == 200
    assert_error(w.planner_api.patch(f"{API}/{plan.pk}", {"status": "approved"}, format="json"), 400,
                 "VALIDATION_ERROR")  # fmt: skip


def test_approved_plans_refuse_edits_but_record_actuals(w):
    plan = services.demand_plan_submit(actor=w.planner, plan=make(w))
    services.demand_plan_approve(actor=w.exec, plan=plan)
    detail = assert_error(w.planner_api.put(f"{API}/{plan.pk}", {"forecast_qty": 1}, format="json"), 409,
                          "INVALID_STATE_TRANSITION")  # fmt: skip
    assert detail["context"]["current_status"] == "approved"
    response = w.planner_api.patch(f"{API}/{plan.pk}", {"actual_qty": 90}, format="json")
    assert (response.status_code, response.json()["actual_qty"], response.json()["version"]) == (200, "90.00", 1)
    response = w.planner_api.post(f"{API}/{plan.pk}/actual", {"actual_qty": "91.5"}, format="json")
    assert (response.status_code, response.json()["actual_qty"], response.json()["version"]) == (200, "91.50", 1)
    assert AuditEvent.objects.filter(event_type="planning.demand_plan.actual_recorded").count() == 2


def test_actuals_are_refused_on_history_rows(w):
    plan = make(w)
    services.demand_plan_update(actor=w.planner, plan=plan, data={"forecast_qty": 5})
    history = DemandPlan.objects.get(history_of=plan)
    response = w.planner_api.post(f"{API}/{history.pk}/actual", {"actual_qty": 1}, format="json")
    assert_error(response, 409, "ENTITY_LOCKED")


# Transitions ------------------------------------------------------------------


def test_the_lifecycle_over_http(w):
    plan = make(w)
    response = w.planner_api.post(f"{API}/{plan.pk}/submit", {"comment": "ready"}, format="json")
    assert response.json()["status"] == "submitted"
    response = w.exec_api.post(f"{API}/{plan.pk}/approve")  # an empty body is fine (API-16)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["approved_by_name"]) == ("approved", w.exec.full_name)
    assert body["allowed_actions"] == ["reopen"]  # executives approve; they do not record actuals
    assert_error(w.exec_api.post(f"{API}/{plan.pk}/reopen", {}, format="json"), 400, "VALIDATION_ERROR")
    response = w.exec_api.post(f"{API}/{plan.pk}/reopen", {"reason": "new promo"}, format="json")
    assert response.json()["status"] == "draft"


def test_an_illegal_transition_is_409_with_the_allowed_actions(w):
    plan = make(w)
    detail = assert_error(w.exec_api.post(f"{API}/{plan.pk}/approve"), 409, "INVALID_STATE_TRANSITION")
    assert detail["context"] == {
        "current_status": "draft", "action": "approve", "allowed_actions": ["edit", "submit", "delete"],
    }  # fmt: skip
    assert DemandPlan.objects.get(pk=plan.pk).status == "draft"


def test_self_approval_is_403(w, api_client_for):
    plan = services.demand_plan_submit(actor=w.admin, plan=make(w, actor=w.admin))
    assert_error(api_client_for(w.admin).post(f"{API}/{plan.pk}/approve"), 403, "SELF_APPROVAL_FORBIDDEN")
    assert DemandPlan.objects.get(pk=plan.pk).status == "submitted"


def test_reject_accepts_comments_and_keeps_them_out_of_the_notes(w):
    plan = services.demand_plan_submit(actor=w.planner, plan=make(w, notes="mine"))
    response = w.exec_api.post(f"{API}/{plan.pk}/reject", {"comments": "too optimistic"}, format="json")
    body = response.json()
    assert (body["status"], body["rejected_by"], body["notes"]) == ("rejected", w.exec.pk, "mine")
    assert AuditEvent.objects.get(event_type="planning.demand_plan.rejected").message == "too optimistic"


def test_delete_answers_the_message_and_a_submitted_plan_is_409(w):
    plan = make(w)
    submitted = services.demand_plan_submit(actor=w.planner, plan=make(w, period=date(2026, 5, 1)))
    assert_error(w.planner_api.delete(f"{API}/{submitted.pk}"), 409, "INVALID_STATE_TRANSITION")
    response = w.planner_api.delete(f"{API}/{plan.pk}")
    assert response.json() == {"message": "Demand plan deleted successfully"}
    assert not DemandPlan.objects.filter(pk=plan.pk).exists()


# Roles and scopes -----------------------------------------------------------------


def test_anonymous_is_401_and_roles_outside_the_matrix_are_403(w, anon_client, api_client_for):
    plan = make(w)
    assert_error(anon_client.get(API), 401, "AUTHENTICATION_REQUIRED")
    assert_error(api_client_for(w.users[Role.VIEWER]).get(API), 403, "PERMISSION_DENIED")
    finance = api_client_for(w.users[Role.FINANCE_ANALYST])
    assert finance.get(f"{API}/{plan.pk}").status_code == 200
    assert_error(finance.post(f"{API}/{plan.pk}/submit"), 403, "PERMISSION_DENIED")
    assert_error(w.planner_api.post(f"{API}/{plan.pk}/reject"), 403, "PERMISSION_DENIED")


@pytest.fixture
def scoped_planner(w, make_user, api_client_for):
    user = make_user(Role.DEMAND_PLANNER, email="scoped@example.test")
    user_scopes_set(actor=w.admin, user=user, scopes=[{"type": "category", "id": w.audio.pk, "access": "change"}])
    return api_client_for(user)


def test_a_category_scoped_planner_neither_sees_nor_edits_other_categories(w, scoped_planner):
    inside = make(w)
    outside = make(w, product=w.mower)
    assert [row["id"] for row in scoped_planner.get(API).json()["items"]] == [inside.pk]
    assert_error(scoped_planner.get(f"{API}/{outside.pk}"), 404, "NOT_FOUND")
    assert_error(scoped_planner.patch(f"{API}/{outside.pk}", {"forecast_qty": 1}, format="json"), 404, "NOT_FOUND")
    assert_error(scoped_planner.post(f"{API}/{outside.pk}/submit"), 404, "NOT_FOUND")
    body = {"product_id": w.mower.pk, "period": "2026-06", "forecast_qty": 1}
    assert_error(scoped_planner.post(API, body, format="json"), 400, "VALIDATION_ERROR")
    assert scoped_planner.post(f"{API}/{inside.pk}/submit").status_code == 200
