"""The inventory exception list (API-INV-08) is sent as a plain array, so it is bounded.

Above API_LIST_MAX_ROWS matching exceptions it answers 400 INVALID_PARAMETER asking for narrower
filters; at or below it, it answers exactly what it answered before, with each caller's own actions;
and what it costs the database does not grow with its rows.
"""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from governance.choices import Role
from planning import services
from planning.models import InventoryPolicyException, InventoryPolicyRun
from planning.services.exceptions import policy_exception_create

pytestmark = pytest.mark.django_db

API = "/api/v1/inventory/exceptions"


@pytest.fixture
def w(users, api_client_for, make_user):
    admin = users[Role.ADMIN]
    owner = make_user(Role.FINANCE_ANALYST, email="owner@example.test")  # reads exceptions, cannot change them
    return SimpleNamespace(
        admin=admin, owner=owner, category=services.category_create(actor=admin, name="Audio"),
        location=services.location_create(actor=admin, data={"code": "MAIN", "name": "Main plant"}),
        run=InventoryPolicyRun.objects.create(requested_by=admin, parameters={"rows": list(range(50))},
                                              result={"rows": [{"note": "x" * 50}] * 50}),
        manager_api=api_client_for(users[Role.INVENTORY_MANAGER]), owner_api=api_client_for(owner), products=0,
    )  # fmt: skip


def add_exceptions(w, count: int) -> list[InventoryPolicyException]:
    """`count` products stocked at MAIN, each with an exception raised by the run: every other one
    owned by `w.owner`."""
    out = []
    for _ in range(count):
        w.products += 1
        data = {"sku": f"SKU-{w.products}", "name": f"P {w.products}", "category": w.category}
        product = services.product_create(actor=w.admin, data=data)
        stock = services.inventory_create(actor=w.admin, product=product, location=w.location,
                                          data={"on_hand_qty": Decimal(1)})  # fmt: skip
        out.append(policy_exception_create(actor=w.admin, inventory=stock, exception_type="stockout_risk",
                                           recommended_action="Expedite",
                                           owner=w.owner if w.products % 2 else None))  # fmt: skip
    # Test setup: the optimisation run service raises its exceptions itself; here they are linked afterwards.
    InventoryPolicyException.objects.filter(pk__in=[e.pk for e in out]).update(run=w.run)
    return out


def test_above_the_limit_is_400_and_narrower_filters_answer(w):
    first, *_ = add_exceptions(w, 3)
    with override_settings(API_LIST_MAX_ROWS=2):
        response = w.manager_api.get(API)
        narrowed = w.manager_api.get(API, {"product_id": first.inventory.product_id})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"]["code"] == body["detail"]["code"] == "INVALID_PARAMETER"
    assert "more than 2 exceptions" in body["error"]["message"]
    assert "narrow" in body["error"]["message"]
    assert body["detail"]["context"] == {"limit": 2}
    assert narrowed.status_code == 200
    assert [r["id"] for r in narrowed.json()] == [first.pk]


def test_at_the_limit_is_the_same_array_as_without_one(w):
    add_exceptions(w, 3)
    unlimited = w.manager_api.get(API)
    assert unlimited.status_code == 200
    assert len(unlimited.json()) == 3
    with override_settings(API_LIST_MAX_ROWS=3):
        assert w.manager_api.get(API).json() == unlimited.json()


def test_each_row_shows_the_callers_own_actions(w):
    exceptions = add_exceptions(w, 2)
    owned = {e.pk for e in exceptions if e.owner_id == w.owner.pk}
    for row in w.manager_api.get(API).json():
        assert row["allowed_actions"] == ["dismiss", "resolve", "start"]
        assert row["run_id"] == w.run.run_id
        assert row["location"] == "MAIN"
    # The owner may work only the exceptions they own (ACC-04), without the change permission.
    by_id = {r["id"]: r for r in w.owner_api.get(API).json()}
    assert {pk for pk, r in by_id.items() if r["allowed_actions"]} == owned
    assert by_id[min(owned)]["owner_name"] == w.owner.full_name


def test_query_count_does_not_grow_with_rows(w):
    add_exceptions(w, 2)
    w.manager_api.get(API)  # the first call of a token also records its use
    with CaptureQueriesContext(connection) as few:
        assert len(w.manager_api.get(API).json()) == 2
    add_exceptions(w, 8)
    with CaptureQueriesContext(connection) as many:
        assert len(w.manager_api.get(API).json()) == 10
    assert len(many) == len(few)
    run_sql = [q["sql"] for q in many.captured_queries if "inventory_policy_runs" in q["sql"]]
    assert run_sql
    assert not any('"inventory_policy_runs"."result"' in sql for sql in run_sql)
