"""Fault drills (enterprise readiness): what a user and an operator see when things break.

- The database goes away under a served instance: `/ready` says 503, API calls and console pages
  answer 503 with the project's error body or error page, and the same process serves again when
  the database is back (PostgreSQL: a TCP proxy cut in two ways; SQLite: the file's folder vanishes).
- Many clients edit one plan at once: every write either lands as its own version with its own
  audit row or is refused with 409 STALE_VERSION; none is lost (PostgreSQL: real row locks).
- Malformed imports and ERP sync batches, and a database that refuses a row in the middle of a
  write: nothing partial is left (spec INT-04, INT-20).

The killed-worker drill lives in tests/forecasting/test_jobs_worker.py; bench/fault_drills.py runs
all four on PostgreSQL and prints the figures. The servers here use ports 8123-8126.
"""

import os
import shutil
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from governance.choices import Role
from governance.models import AuditEvent
from planning import services
from planning.models import DemandPlan, IntegrationBatch, Product
from tests.platform import faultkit
from tests.platform.subproc import (
    base_env,
    migrated_sqlite_fixture,  # noqa: F401 (fixture)
    migrated_sqlite_template_fixture,  # noqa: F401 (fixture)
    sqlite_url,
)
from tests.platform.tcpproxy import BLACKHOLE, REFUSE, TcpProxy

pytestmark = pytest.mark.slow

DB = settings.DATABASES["default"]
ON_POSTGRES = DB["ENGINE"] == "django.db.backends.postgresql"
PROXY_PORT, SERVER_PORT = 8123, 8124
REFUSED = "FAULT-DRILL-REFUSED"
API = "/api/v1"


def postgres_url(port: int | None = None) -> str:
    user = DB.get("USER") or "postgres"
    password = f":{DB['PASSWORD']}" if DB.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{DB.get('HOST') or '127.0.0.1'}:{port or DB.get('PORT') or 5432}/{DB['NAME']}"


def server_env(url: str) -> dict:
    # The suite's PostgreSQL database is built by the test runner, which makes no cache table for the
    # database cache; a file migrated by `manage.py migrate` has one.
    cache = "locmem://drill" if url.startswith("postgres") else "db://genxsop_cache"
    # The drills hammer one user's token: the rate limits would turn retried writes into 429s.
    return base_env(DATABASE_URL=url, CACHE_URL=cache, API_THROTTLE_RATE_USER="100000/min",
                    API_THROTTLE_RATE_WRITE="100000/min")  # fmt: skip


def assert_outage_answers(outage: dict) -> None:
    assert outage["ready_status"] == 503
    assert outage["ready_database_ok"] is False
    assert (outage["api_status"], outage["api_code"], outage["api_retry_after"]) == (503, "SERVICE_UNAVAILABLE", "5")
    assert outage["console_status"] == 503
    assert outage["console_request_id_shown"] is True
    assert (outage["after_ready"], outage["after_api"], outage["after_console"]) == (200, 200, 200)


# Database outage ----------------------------------------------------------------------------


@pytest.mark.skipif(not ON_POSTGRES, reason="the outage is cut in a TCP proxy between the app and PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_postgres_outage_answers_503_everywhere_and_the_same_process_recovers(tmp_path):
    target = (DB.get("HOST") or "127.0.0.1", int(DB.get("PORT") or 5432))
    env = server_env(postgres_url(PROXY_PORT))
    with TcpProxy(listen_port=PROXY_PORT, target=target) as proxy:
        seeded = faultkit.seed(env)
        with faultkit.served(env=env, port=SERVER_PORT, log_path=tmp_path / "gunicorn.log") as server:
            figures = faultkit.outage_drill(
                server, seeded, outages={REFUSE: lambda: proxy.cut(REFUSE), BLACKHOLE: lambda: proxy.cut(BLACKHOLE)},
                restore=proxy.restore,
            )  # fmt: skip

    assert figures["before"] == {"ready": 200, "api": 200, "console": 200}
    assert_outage_answers(figures[REFUSE])
    assert_outage_answers(figures[BLACKHOLE])
    assert figures["same_workers"] is True  # recovered without a restart


def test_sqlite_outage_answers_503_everywhere_and_the_same_process_recovers(tmp_path, migrated_sqlite):
    folder = tmp_path / "data"
    folder.mkdir()
    database = folder / "app.sqlite3"
    shutil.move(migrated_sqlite, database)
    env = server_env(sqlite_url(database))
    seeded = faultkit.seed(env)
    with faultkit.served(env=env, port=SERVER_PORT + 1, log_path=tmp_path / "gunicorn.log") as server:
        figures = faultkit.outage_drill(
            server, seeded, outages={"gone": lambda: os.rename(folder, tmp_path / "away")},
            restore=lambda: os.rename(tmp_path / "away", folder),
        )  # fmt: skip

    assert figures["before"] == {"ready": 200, "api": 200, "console": 200}
    assert_outage_answers(figures["gone"])
    assert figures["same_workers"] is True


# Concurrent edits ------------------------------------------------------------------------------


@pytest.mark.skipif(not ON_POSTGRES, reason="concurrent writers need PostgreSQL's row locks (SQLite has one writer)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_read_modify_write_edits_of_one_plan_lose_nothing(tmp_path):
    env = server_env(postgres_url())
    seeded = faultkit.seed(env)
    with faultkit.served(env=env, port=SERVER_PORT + 2, log_path=tmp_path / "gunicorn.log", threads=8) as server:
        figures = faultkit.concurrent_edit_drill(server, seeded, clients=8, increments=4)

    assert (figures["errors"], figures["gave_up"]) == (0, 0), figures["error_samples"]
    assert figures["ok"] == 8 * 4
    assert figures["final_qty"] == figures["ok"]  # every accepted increment is in the value
    assert figures["final_version"] == figures["ok"] + 1
    assert figures["version_numbers"] == list(range(1, figures["ok"] + 2))
    plan = DemandPlan.objects.get(pk=seeded["plan_id"])
    assert DemandPlan.objects.filter(history_of=plan).count() == figures["ok"]
    updates = AuditEvent.objects.filter(event_type="planning.demand_plan.updated", target_id=str(plan.pk))
    assert updates.count() == figures["ok"]


# Malformed imports and sync batches ---------------------------------------------------------------


@contextmanager
def database_refuses(table: str, column: str):
    """A trigger that makes the database itself refuse rows whose `column` is REFUSED (as a CHECK would)."""
    name = f"gx_fault_refuse_{table}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"RAISE EXCEPTION 'refused by the database' USING ERRCODE = 'check_violation'; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW "
                f"WHEN (NEW.{column} = '{REFUSED}') EXECUTE FUNCTION {name}()"
            )
        else:
            for event in ("INSERT", "UPDATE"):
                cursor.execute(
                    f"CREATE TRIGGER {name}_{event.lower()} BEFORE {event} ON {table} "
                    f"WHEN NEW.{column} = '{REFUSED}' BEGIN SELECT RAISE(ABORT, 'refused by the database'); END"
                )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")
            else:
                for event in ("insert", "update"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}_{event}")


def state() -> dict:
    """What a partial write would change: plan rows (live and history), products and audit rows."""
    return {
        "plans": sorted(DemandPlan.objects.values_list("pk", "version", "forecast_qty", "is_current")),
        "products": sorted(Product.objects.values_list("sku", flat=True)),
        "audit": AuditEvent.objects.exclude(event_type="planning.integration_batch.completed").count(),
    }


@pytest.fixture
def w(users, api_client_for):
    from datetime import date

    admin, planner = users[Role.ADMIN], users[Role.DEMAND_PLANNER]
    audio = services.category_create(actor=admin, name="Audio")
    products = [
        services.product_create(actor=admin, data={"sku": f"SPK-{i}", "name": f"Speaker {i}", "category": audio})
        for i in range(1, 5)
    ]
    plans = [
        services.demand_plan_create(actor=planner, product=p, data={"period": date(2026, 3, 1), "forecast_qty": 10})
        for p in products
    ]
    browser = APIClient()
    browser.force_login(planner)
    erp = api_client_for(users[Role.SOP_COORDINATOR], scopes=["integrations:write"])
    return SimpleNamespace(admin=admin, planner=planner, products=products, plans=plans, browser=browser, erp=erp)


def import_plans(w, content: str, **fields):
    upload = SimpleUploadedFile("plans.csv", content.encode(), content_type="text/csv")
    return w.browser.post(f"{API}/demand/plans/import", {"file": upload, "mode": "apply", **fields},
                          format="multipart")  # fmt: skip


def sync_products(w, items: list, **meta):
    body = {"meta": {"source_system": "SAP", "idempotency_key": f"k-{len(items)}-{meta}", **meta}, "items": items}
    return w.erp.post(f"{API}/integrations/erp/products/sync", body, format="json")


UPDATES = "sku,period,forecast_qty,notes\n" + "".join(f"SPK-{i},2026-03,{50 + i},edited\n" for i in range(1, 5))


@pytest.mark.django_db
def test_an_atomic_import_with_malformed_rows_in_the_middle_writes_nothing(w):
    before = state()
    rows = UPDATES.splitlines()
    content = "\n".join([*rows[:3], "SPK-3,2026-13,5,bad period", "SPK-4,2026-03,lots,bad number", *rows[3:]]) + "\n"

    response = import_plans(w, content)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["atomic"], body["failed"]) == ("failed", True, 2)
    assert {e["row"] for e in body["errors"]} == {4, 5}
    assert state() == before  # no new version, no history row, no audit row
    assert IntegrationBatch.objects.get(batch_uuid=body["batch_uuid"]).status == "failed"


@pytest.mark.django_db
def test_a_database_refusal_in_the_middle_of_an_atomic_import_rolls_back_the_rows_before_it(w):
    before = state()
    content = UPDATES.replace("SPK-3,2026-03,53,edited", f"SPK-3,2026-03,53,{REFUSED}")

    with database_refuses("demand_plans", "notes"):
        response = import_plans(w, content)

    assert response.status_code == 201, response.content
    assert state() == before  # rows 2 and 3 were written before the refusal: rolled back with it
    batch = IntegrationBatch.objects.get()
    assert batch.status == "failed"


@pytest.mark.django_db
def test_a_database_refusal_in_a_non_atomic_import_leaves_no_half_written_row(w):
    content = UPDATES.replace("SPK-3,2026-03,53,edited", f"SPK-3,2026-03,53,{REFUSED}")

    with database_refuses("demand_plans", "notes"):
        response = import_plans(w, content, atomic="false")

    assert response.status_code == 201, response.content
    plans = {p.product.sku: p for p in DemandPlan.objects.filter(is_current=True).select_related("product")}
    refused = plans["SPK-3"]
    # The refused row keeps version 1: no live-row update without its history row and audit row.
    assert (refused.version, refused.forecast_qty) == (1, 10)
    assert not DemandPlan.objects.filter(history_of=refused).exists()
    assert not AuditEvent.objects.filter(event_type="planning.demand_plan.updated", target_id=str(refused.pk)).exists()
    for sku, plan in plans.items():
        updated = plan.version == 2
        history = DemandPlan.objects.filter(history_of=plan).count()
        audits = AuditEvent.objects.filter(event_type="planning.demand_plan.updated", target_id=str(plan.pk)).count()
        assert (history, audits) == ((1, 1) if updated else (0, 0)), sku


SYNC_ITEMS = [{"sku": f"NEW-{i}", "name": f"New {i}", "category": "Audio"} for i in range(1, 6)]


@pytest.mark.django_db
def test_an_atomic_sync_batch_with_malformed_items_applies_nothing(w):
    before = state()
    items = [*SYNC_ITEMS[:2], {"sku": "BAD-1"}, {"sku": "BAD-2", "name": "Bad", "unit_cost": "-3"}, *SYNC_ITEMS[2:]]

    response = sync_products(w, items, atomic=True)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["failed"], body["created"]) == ("failed", 2, 0)
    assert {e["index"] for e in body["errors"]} == {2, 3}
    assert state() == before


@pytest.mark.django_db
def test_a_non_atomic_sync_batch_applies_exactly_the_valid_items_each_with_its_audit_row(w):
    before = state()
    items = [*SYNC_ITEMS[:2], {"sku": "BAD-1"}, {"sku": "BAD-2", "name": "Bad", "unit_cost": "-3"}, *SYNC_ITEMS[2:]]

    response = sync_products(w, items)

    body = response.json()
    assert (body["status"], body["created"], body["failed"]) == ("partial", 5, 2)
    after = state()
    assert after["products"] == sorted([*before["products"], *(i["sku"] for i in SYNC_ITEMS)])
    created = AuditEvent.objects.filter(event_type="planning.product.created",
                                        target_repr__startswith="NEW-").count()  # fmt: skip
    assert created == 5
    assert not Product.objects.filter(sku__startswith="BAD-").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("atomic", [True, False])
def test_a_database_refusal_in_the_middle_of_a_sync_batch_leaves_nothing_partial(w, atomic):
    before = state()
    items = [*SYNC_ITEMS[:2], {"sku": "NEW-X", "name": REFUSED, "category": "Audio"}, *SYNC_ITEMS[2:]]

    with database_refuses("products", "name"):
        response = sync_products(w, items, atomic=atomic)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["failed"] >= 1
    assert 2 in {e["index"] for e in body["errors"]}
    after = state()
    assert "NEW-X" not in after["products"]
    if atomic:
        assert body["status"] == "failed"
        assert after == before
    else:
        assert body["status"] == "partial"
        assert after["products"] == sorted([*before["products"], *(i["sku"] for i in SYNC_ITEMS)])
        assert after["audit"] - before["audit"] == len(SYNC_ITEMS)  # one created row each, none for NEW-X
