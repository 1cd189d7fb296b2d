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


# Plan lists (API-DEM-01, API-SUP-01, API-05) -----------------------------------------------------


def _plans_over_months(admin, *, products: int, months: int):
    """`products` x `months` current demand and supply plans; SKUs are created out of id order."""
    from datetime import date

    cat = services.category_create(actor=admin, name="Plans")
    location = services.location_create(actor=admin, data={"code": "P1", "name": "Plant"})
    skus = [f"K-{(i * 7) % products:03d}" for i in range(products)]
    made = [services.product_create(actor=admin, data={"sku": sku, "name": sku, "category": cat}) for sku in skus]
    for product in made:
        for month in range(1, months + 1):
            period = date(2026, month, 1)
            services.demand_plan_create(actor=admin, product=product, data={"period": period, "forecast_qty": 5})
            services.supply_plan_create(actor=admin, product=product, location=location,
                                        data={"period": period, "planned_prod_qty": 5})  # fmt: skip
    return made


def _expected_order(body_rows):
    return sorted(body_rows, key=lambda row: (-int(row["period"].replace("-", "")), row["sku"]))


@pytest.mark.parametrize("api_path", ["/api/v1/demand/plans", "/api/v1/supply/plans"])
def test_plan_list_pages_walk_every_month_in_the_default_order_with_an_exact_total(users, api_client_for, api_path):
    admin = users[Role.ADMIN]
    _plans_over_months(admin, products=5, months=6)
    api = api_client_for(admin)

    for page_size in (2, 7, 100):
        pages = -(-30 // page_size)
        seen = []
        for page in range(1, pages + 1):
            body = api.get(api_path, {"page": page, "page_size": page_size}).json()
            assert (body["total"], body["page"], body["total_pages"]) == (30, page, pages)
            seen.extend(body["items"])
        assert api.get(api_path, {"page": pages + 1, "page_size": page_size}).json()["items"] == []
        assert len({row["id"] for row in seen}) == 30
        assert [row["id"] for row in seen] == [row["id"] for row in _expected_order(seen)]
    by_sku = api.get(api_path, {"ordering": "sku", "page_size": 100}).json()
    assert by_sku["total"] == 30
    assert [row["sku"] for row in by_sku["items"]] == sorted(row["sku"] for row in seen)


@pytest.mark.parametrize("api_path", ["/api/v1/demand/plans", "/api/v1/supply/plans"])
def test_plan_list_counts_only_the_filtered_rows(users, api_client_for, api_path):
    admin = users[Role.ADMIN]
    products = _plans_over_months(admin, products=4, months=5)
    api = api_client_for(admin)

    body = api.get(api_path, {"product_id": products[1].pk, "page_size": 2, "page": 2}).json()
    assert (body["total"], body["total_pages"]) == (5, 3)
    assert [row["period"] for row in body["items"]] == ["2026-03-01", "2026-02-01"]
    recent = api.get(api_path, {"period_from": "2026-04", "page_size": 100}).json()
    assert recent["total"] == 8
    assert {row["period"] for row in recent["items"]} == {"2026-04-01", "2026-05-01"}


@pytest.mark.parametrize("api_path", ["/api/v1/demand/plans", "/api/v1/supply/plans"])
def test_plan_list_reads_user_references_in_one_query_whatever_their_number(
    users, api_client_for, django_assert_max_num_queries, api_path
):
    from datetime import date

    admin = users[Role.ADMIN]
    products = _plans_over_months(admin, products=3, months=1)
    api = api_client_for(admin)
    with CaptureQueriesContext(connection) as before:
        assert api.get(api_path).status_code == 200
    # More rows, written and submitted by another person: the page still costs the same queries.
    planner = users[Role.SUPPLY_PLANNER]
    location = products[0].supply_plans.get().location
    for i in range(3):
        product = services.product_create(actor=admin, data={"sku": f"N-{i}", "name": f"N {i}",
                                                             "category": products[0].category})  # fmt: skip
        if api_path.endswith("demand/plans"):
            plan = services.demand_plan_create(actor=planner, product=product,
                                               data={"period": date(2026, 1, 1), "forecast_qty": 1})  # fmt: skip
            services.demand_plan_submit(actor=planner, plan=plan)
        else:
            plan = services.supply_plan_create(actor=planner, product=product, location=location,
                                               data={"period": date(2026, 1, 1), "planned_prod_qty": 1})  # fmt: skip
            services.supply_plan_submit(actor=planner, plan=plan)
    user_queries = [q for q in before.captured_queries if 'FROM "users"' in q["sql"]]
    assert len(user_queries) == 1
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = api.get(api_path)
    body = response.json()
    assert body["total"] == 6
    submitted = [row for row in body["items"] if row["status"] == "submitted"]
    assert len(submitted) == 3
    assert {row["submitted_by_name"] for row in submitted} == {planner.full_name}


def test_a_role_change_applies_to_the_next_request(users, api_client_for):
    from governance.services import user_set_role

    planner = users[Role.DEMAND_PLANNER]
    api = api_client_for(planner)
    with CaptureQueriesContext(connection) as ctx:
        assert api.get("/api/v1/demand/plans").status_code == 200
    assert len([q for q in ctx.captured_queries if 'FROM "auth_permission"' in q["sql"]]) == 1

    user_set_role(actor=users[Role.ADMIN], user=planner, role=Role.VIEWER)
    assert api.get("/api/v1/demand/plans").status_code == 403
    user_set_role(actor=users[Role.ADMIN], user=planner, role=Role.DEMAND_PLANNER)
    assert api.get("/api/v1/demand/plans").status_code == 200


@pytest.mark.parametrize("api_path", ["/api/v1/demand/plans", "/api/v1/supply/plans"])
def test_plan_reads_leave_the_locking_publications_documents_unread(users, api_client_for, api_path):
    admin = users[Role.ADMIN]
    _plans_over_months(admin, products=2, months=1)
    api = api_client_for(admin)
    with CaptureQueriesContext(connection) as ctx:
        listed = api.get(api_path)
        detail = api.get(f"{api_path}/{listed.json()['items'][0]['id']}")
    assert (listed.status_code, detail.status_code) == (200, 200)
    assert detail.json()["publication_stamp"] is None
    page_sql = [q["sql"] for q in ctx.captured_queries if 'JOIN "publications"' in q["sql"]]
    assert len(page_sql) == 2, "the locking publication's stamp comes from the joined row"
    # A publication's excluded rows can run to megabytes; every locked row on a page would decode them.
    assert not any('"publications"."excluded"' in sql or '"publications"."failed_gates"' in sql for sql in page_sql)
