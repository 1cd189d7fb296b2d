"""What a list read costs the database stays bounded as rows and their neighbours grow (OPS-60).

The figures themselves come from `bench/load.py`; these tests only pin the query shapes it found.
"""

from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.choices import Role
from planning import services
from planning.models import InventoryPolicyException, InventoryPolicyRun
from planning.services.exceptions import policy_exception_create

pytestmark = pytest.mark.django_db


def _exceptions_raised_by_one_run(admin, count: int) -> InventoryPolicyRun:
    """`count` exceptions on their own rows, all linked to one run with large result documents."""
    cat = services.category_create(actor=admin, name=f"Cat {count}")
    location = services.location_create(actor=admin, data={"code": f"L{count}", "name": f"L{count}"})
    for i in range(count):
        product = services.product_create(
            actor=admin, data={"sku": f"Q{count}-{i}", "name": f"Q {i}", "category": cat, "unit_cost": D("1.00")}
        )
        stock = {"on_hand_qty": D(1), "safety_stock": D(10), "reorder_point": D(20)}
        row = services.inventory_create(actor=admin, product=product, location=location, data=stock)
        policy_exception_create(actor=admin, inventory=row, exception_type="stockout_risk",
                                recommended_action="Expedite")  # fmt: skip
    run = InventoryPolicyRun.objects.create(
        requested_by=admin,
        parameters={"rows": list(range(500))},
        result={"rows": [{"inventory_id": i, "note": "x" * 50} for i in range(500)]},
    )
    # Test setup: the optimisation run service raises its exceptions itself; here they are linked afterwards.
    InventoryPolicyException.objects.filter(inventory__location=location).update(run=run)
    return run


def test_exception_list_shows_the_run_without_fetching_its_documents(users, api_client_for):
    admin = users[Role.ADMIN]
    run = _exceptions_raised_by_one_run(admin, 3)
    api = api_client_for(admin)
    with CaptureQueriesContext(connection) as ctx:
        response = api.get("/api/v1/inventory/exceptions")
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 3
    assert {item["run_id"] for item in body} == {run.run_id}
    run_sql = [q["sql"] for q in ctx.captured_queries if "inventory_policy_runs" in q["sql"]]
    assert run_sql, "the run id comes from the joined run"
    assert not any('"inventory_policy_runs"."result"' in sql or '"inventory_policy_runs"."parameters"' in sql
                   for sql in run_sql)  # fmt: skip


def test_exception_list_query_count_does_not_grow_with_rows(users, api_client_for, django_assert_max_num_queries):
    admin = users[Role.ADMIN]
    api = api_client_for(admin)
    _exceptions_raised_by_one_run(admin, 2)
    with CaptureQueriesContext(connection) as small:
        assert api.get("/api/v1/inventory/exceptions").status_code == 200
    _exceptions_raised_by_one_run(admin, 8)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = api.get("/api/v1/inventory/exceptions")
    assert response.status_code == 200
    assert len(response.json()) == 10
