"""Decision comments (GOV-12, GOV-80): approvals, rejections and reopen reasons are comments, never notes."""

from datetime import date
from decimal import Decimal

import pytest

from genxsop.errors import PermissionDenied
from governance.choices import Role
from governance.models import Comment
from governance.services.scopes import user_scopes_set
from planning import services

pytestmark = pytest.mark.django_db

URL = "/api/v1/comments"


@pytest.fixture
def plan(users):
    admin = users[Role.ADMIN]
    category = services.category_create(actor=admin, name="Audio")
    product = services.product_create(actor=admin, data={"sku": "CM-1", "name": "Commented", "category": category})
    plan = services.demand_plan_create(actor=users[Role.DEMAND_PLANNER], product=product,
                                       data={"period": date(2026, 5, 1), "forecast_qty": Decimal("40")})  # fmt: skip
    services.demand_plan_submit(actor=users[Role.DEMAND_PLANNER], plan=plan)
    return plan


def comments_on(plan) -> list[tuple[str, str, str]]:
    return list(
        Comment.objects.filter(entity_type="demand_plan", entity_id=str(plan.pk))
        .order_by("id")
        .values_list("kind", "content", "user__email")
    )


def test_a_rejection_is_a_rejection_comment_and_the_notes_stay_as_they_were(users, plan):
    services.demand_plan_reject(actor=users[Role.EXECUTIVE], plan=plan, comment="Too optimistic for May")
    plan.refresh_from_db()
    assert plan.notes == ""
    assert comments_on(plan) == [("rejection", "Too optimistic for May", users[Role.EXECUTIVE].email)]


def test_a_rejection_without_a_reason_records_the_default_comment(users, plan):
    services.demand_plan_reject(actor=users[Role.EXECUTIVE], plan=plan)
    assert comments_on(plan) == [("rejection", "Rejected", users[Role.EXECUTIVE].email)]


def test_approval_and_reopen_comments_have_their_kinds_and_a_silent_approval_has_none(users, plan):
    services.demand_plan_approve(actor=users[Role.EXECUTIVE], plan=plan)
    assert comments_on(plan) == []
    services.demand_plan_reopen(actor=users[Role.EXECUTIVE], plan=plan, reason="Promotion moved to June")
    services.demand_plan_submit(actor=users[Role.DEMAND_PLANNER], plan=plan, comment="June promo included")
    services.demand_plan_approve(actor=users[Role.EXECUTIVE], plan=plan, comment="Agreed in demand review")
    assert [(k, c) for k, c, _ in comments_on(plan)] == [
        ("return", "Promotion moved to June"),
        ("comment", "June promo included"),
        ("approval", "Agreed in demand review"),
    ]


def test_a_refused_decision_leaves_no_comment(users, plan):
    with pytest.raises(PermissionDenied):
        services.demand_plan_approve(actor=users[Role.DEMAND_PLANNER], plan=plan, comment="self")
    assert comments_on(plan) == []


def test_the_api_lists_an_entitys_comments_oldest_first(users, plan, api_client_for):
    services.demand_plan_reject(actor=users[Role.EXECUTIVE], plan=plan, comment="Check the EU split")
    response = api_client_for(users[Role.FINANCE_ANALYST]).get(URL, {"entity_type": "demand_plan",
                                                                     "entity_id": plan.pk})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    item = body["items"][0]
    assert (item["kind"], item["content"], item["user_name"], item["deleted"]) == (
        "rejection", "Check the EU split", users[Role.EXECUTIVE].full_name, False)  # fmt: skip


def test_readers_of_the_entity_only(users, plan, api_client_for, make_user):
    params = {"entity_type": "demand_plan", "entity_id": plan.pk}
    assert api_client_for(users[Role.VIEWER]).get(URL, params).status_code == 404
    outsider = make_user(Role.DEMAND_PLANNER, email="garden@example.test")
    admin = users[Role.ADMIN]
    garden = services.category_create(actor=admin, name="Garden")
    user_scopes_set(actor=admin, user=outsider, scopes=[{"type": "category", "id": garden.pk, "access": "change"}])
    assert api_client_for(outsider).get(URL, params).status_code == 404
    response = api_client_for(users[Role.DEMAND_PLANNER]).get(URL, {"entity_type": "spaceship", "entity_id": 1})
    assert response.status_code == 400
    assert "entity_type" in response.json()["error"]["details"]["fields"]
    assert api_client_for(users[Role.DEMAND_PLANNER]).get(URL).status_code == 400


def test_the_plan_page_shows_the_decisions_on_its_comments_tab(users, plan, client):
    services.demand_plan_reject(actor=users[Role.EXECUTIVE], plan=plan, comment="EU split looks off")
    client.force_login(users[Role.DEMAND_PLANNER])
    page = client.get(f"/demand/{plan.pk}/?tab=comments")
    assert page.status_code == 200
    html = page.content.decode()
    assert "EU split looks off" in html
    assert "Rejection" in html
    assert users[Role.EXECUTIVE].full_name in html
