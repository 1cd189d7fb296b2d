"""File export, import and template endpoints (INT-20…23) as a client sees them over HTTP."""

import io
from datetime import date
from types import SimpleNamespace

import pytest
from openpyxl import Workbook, load_workbook
from rest_framework.test import APIClient

from governance.choices import Role
from governance.models import AuditEvent
from governance.services.scopes import user_scopes_set
from planning import events, services
from planning.models import DemandPlan, IntegrationBatch, Product

pytestmark = pytest.mark.django_db

API = "/api/v1"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def w(users):
    admin = users[Role.ADMIN]
    audio = services.category_create(actor=admin, name="Audio")
    garden = services.category_create(actor=admin, name="Garden")
    speaker = services.product_create(actor=admin, data={"sku": "SPK-1", "name": "Speaker", "category": audio})
    mower = services.product_create(actor=admin, data={"sku": "MOW-1", "name": "=Mower", "category": garden})
    planner = users[Role.DEMAND_PLANNER]
    plan = services.demand_plan_create(
        actor=planner, product=speaker, data={"period": date(2026, 3, 1), "forecast_qty": 100}
    )
    other = services.demand_plan_create(
        actor=planner, product=mower, data={"period": date(2026, 4, 1), "forecast_qty": 40, "region": "EU"}
    )

    def client(user):
        c = APIClient()
        c.force_login(user)
        return c

    return SimpleNamespace(users=users, admin=admin, planner=planner, audio=audio, speaker=speaker, mower=mower,
                           plan=plan, other=other, client=client, api=client(planner))  # fmt: skip


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_lines(response) -> list[list[str]]:
    import csv

    return list(csv.reader(io.StringIO(body_of(response).decode("utf-8"))))


def upload(api, path, content: bytes, name="plans.csv", content_type="text/csv", **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"file": SimpleUploadedFile(name, content, content_type=content_type), **fields}
    return api.post(f"{API}{path}", data, format="multipart")


def xlsx_content(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    return body["detail"]


# Export -----------------------------------------------------------------------------------------


def test_csv_export_has_the_import_columns_plus_read_only_ones_and_a_dated_name(w):
    response = w.api.get(f"{API}/demand/plans/export", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="demand_plans_')
    assert response["Content-Disposition"].endswith('.csv"')
    rows = csv_lines(response)
    header = rows[0]
    assert header[:4] == ["id", "sku", "product_name", "period"]
    assert {"forecast_qty", "demand_qty", "version", "status", "updated_at"} <= set(header)
    by_sku = {r[1]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert by_sku["SPK-1"]["period"] == "2026-03"
    assert by_sku["SPK-1"]["forecast_qty"] == "100.00"
    assert by_sku["MOW-1"]["product_name"] == "'=Mower"  # INT-23


def test_export_honours_the_list_filters_and_rejects_bad_ones(w):
    rows = csv_lines(w.api.get(f"{API}/demand/plans/export/", {"region": "EU"}))
    assert [r[1] for r in rows[1:]] == ["MOW-1"]
    response = w.api.get(f"{API}/demand/plans/export", {"status": "nonsense"})
    assert_error(response, 400, "INVALID_PARAMETER")
    assert_error(w.api.get(f"{API}/demand/plans/export", {"format": "pdf"}), 400, "INVALID_PARAMETER")


def test_a_category_scoped_user_exports_only_rows_of_their_scope(w):
    scoped = w.users[Role.SUPPLY_PLANNER]
    user_scopes_set(actor=w.admin, user=scoped, scopes=[{"type": "category", "id": w.audio.pk, "access": "view"}])
    rows = csv_lines(w.client(scoped).get(f"{API}/demand/plans/export"))
    assert [r[1] for r in rows[1:]] == ["SPK-1"]
    rows = csv_lines(w.client(scoped).get(f"{API}/products/export"))
    assert [r[1] for r in rows[1:]] == ["SPK-1"]


def test_xlsx_export_types_numbers_and_freezes_the_header(w):
    response = w.api.get(f"{API}/demand/plans/export", {"format": "xlsx", "region": "Global"})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    sheet = load_workbook(io.BytesIO(body_of(response))).active
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["sku"] == "SPK-1"
    assert row["forecast_qty"] == 100
    assert isinstance(row["version"], int)
    assert sheet.cell(row=2, column=header.index("forecast_qty") + 1).data_type == "n"


def test_every_export_is_audited_with_filters_and_row_count(w):
    w.api.get(f"{API}/demand/plans/export", {"format": "xlsx", "region": "EU", "page": "3"})
    event = AuditEvent.objects.get(event_type=events.DATA_EXPORTED)
    assert event.actor == w.planner
    assert event.metadata["dataset"] == "demand_plans"
    assert event.metadata["filters"] == {"region": "EU"}
    assert event.metadata["row_count"] == 1
    assert event.metadata["format"] == "xlsx"


def test_products_and_locations_export(w):
    services.location_create(actor=w.admin, data={"code": "DC-1", "name": "Central"})
    rows = csv_lines(w.api.get(f"{API}/products/export", {"search": "spk"}))
    header = rows[0]
    assert dict(zip(header, rows[1], strict=True))["category"] == "Audio"
    assert len(rows) == 2
    rows = csv_lines(w.api.get(f"{API}/locations/export"))
    assert rows[0][:3] == ["id", "code", "name"]
    assert rows[1][1] == "DC-1"


def test_export_needs_the_module_read_permission(w):
    viewer = w.client(w.users[Role.VIEWER])
    assert_error(viewer.get(f"{API}/demand/plans/export"), 403, "PERMISSION_DENIED")
    assert_error(APIClient().get(f"{API}/demand/plans/export"), 401, "AUTHENTICATION_REQUIRED")
    assert not AuditEvent.objects.filter(event_type=events.DATA_EXPORTED).exists()


# Templates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "first"),
    [("/demand/plans", "sku,period,region,channel,forecast_qty"), ("/demand/actuals", "sku,period,region,channel"),
     ("/supply/plans", "sku,period,location"), ("/inventory", "sku,location,on_hand_qty"),
     ("/products", "sku,name,category")],
)  # fmt: skip
def test_import_templates_are_empty_files_with_the_import_columns(w, path, first):
    response = w.client(w.admin).get(f"{API}{path}/import-template", {"format": "csv"})
    assert response.status_code == 200
    text = body_of(response).decode()
    assert text.startswith(first)
    assert text.count("\n") == 1
    response = w.client(w.admin).get(f"{API}{path}/import-template/", {"format": "xlsx"})
    assert response["Content-Type"] == XLSX_TYPE
    assert load_workbook(io.BytesIO(body_of(response))).active.max_row == 1


def test_templates_need_the_import_permission(w):
    assert_error(w.client(w.users[Role.EXECUTIVE]).get(f"{API}/demand/plans/import-template"), 403,
                 "PERMISSION_DENIED")  # fmt: skip
    assert w.api.get(f"{API}/demand/plans/import-template").status_code == 200
    assert_error(w.api.get(f"{API}/products/import-template"), 403, "PERMISSION_DENIED")


# Import -----------------------------------------------------------------------------------------


def _edited_export(w, fmt: str) -> bytes:
    """The demand export with SPK-1's forecast changed to 130."""
    response = w.api.get(f"{API}/demand/plans/export", {"format": fmt, "region": "Global"})
    if fmt == "csv":
        text = body_of(response).decode()
        assert "100.00" in text
        return text.replace("100.00", "130").encode()
    workbook = load_workbook(io.BytesIO(body_of(response)))
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index("forecast_qty") + 1).value = 130
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_edited_export_imports_again_as_a_new_version(w, fmt):
    content = _edited_export(w, fmt)
    name, content_type = ("plans.csv", "text/csv") if fmt == "csv" else ("plans.xlsx", XLSX_TYPE)
    response = upload(w.api, "/demand/plans/import", content, name=name, content_type=content_type, mode="apply")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["updated"], body["failed"], body["replayed"]) == ("completed", 1, 0, False)
    assert body["warnings"] == []
    assert body["errors"] == []
    assert (body["file_format"], body["mode"]) == (fmt, "apply")
    w.plan.refresh_from_db()
    assert (w.plan.forecast_qty, w.plan.version) == (130, 2)
    batch = IntegrationBatch.objects.get(pk=body["id"])
    assert (batch.channel, batch.operation, batch.file_format) == ("file", "import_demand_plans", fmt)


def test_validate_is_the_default_and_writes_nothing_but_the_batch(w):
    content = b"SKU,Period,Forecast_Qty\nSPK-1,2026-03,150\nSPK-1,2026-05,20\n"
    response = upload(w.api, "/demand/plans/import", b"\xef\xbb\xbf" + content)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["mode"], body["dry_run"], body["status"]) == ("validate", True, "completed")
    assert (body["created"], body["updated"]) == (1, 1)
    w.plan.refresh_from_db()
    assert (w.plan.forecast_qty, w.plan.version) == (100, 1)
    assert DemandPlan.objects.count() == 2


def test_a_bad_row_in_an_atomic_apply_fails_the_batch_naming_row_and_column_and_writes_nothing(w):
    before = sorted(DemandPlan.objects.values_list("pk", "version", "forecast_qty"))
    content = b"sku,period,forecast_qty,colour\nSPK-1,2026-03,150,red\nSPK-1,2026-06,-4,blue\nNOPE,2026-03,1,\n"
    response = upload(w.api, "/demand/plans/import", content, mode="apply")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "failed"
    assert body["atomic"] is True
    errors = {(e["row"], e["column"]): e["code"] for e in body["errors"]}
    assert errors[(3, "forecast_qty")] == "OUT_OF_RANGE"
    assert errors[(4, "sku")] == "UNKNOWN_SKU"
    assert [w_["column"] for w_ in body["warnings"]] == ["colour"]
    assert sorted(DemandPlan.objects.values_list("pk", "version", "forecast_qty")) == before


def test_a_non_atomic_apply_writes_the_good_rows(w):
    content = b"sku,period,forecast_qty\nSPK-1,2026-03,150\nNOPE,2026-03,1\n"
    response = upload(w.api, "/demand/plans/import", content, mode="apply", atomic="false")
    body = response.json()
    assert (body["status"], body["updated"], body["failed"]) == ("partial", 1, 1)
    assert body["errors"][0]["row"] == 3
    w.plan.refresh_from_db()
    assert (w.plan.forecast_qty, w.plan.version) == (150, 2)


def test_the_same_file_applied_again_within_a_day_is_replayed_unless_forced(w):
    content = b"sku,period,forecast_qty\nSPK-1,2026-03,150\n"
    first = upload(w.api, "/demand/plans/import", content, mode="apply").json()
    again = upload(w.api, "/demand/plans/import", content, mode="apply")
    assert again.status_code == 201
    assert (again.json()["id"], again.json()["replayed"]) == (first["id"], True)
    assert IntegrationBatch.objects.count() == 1
    forced = upload(w.api, "/demand/plans/import", content, mode="apply", force="true").json()
    assert forced["id"] != first["id"]
    assert forced["replayed"] is False
    assert forced["skipped"] == 1  # nothing changed: no third version
    w.plan.refresh_from_db()
    assert w.plan.version == 2


def test_whole_file_refusals(w, settings):
    detail = assert_error(upload(w.api, "/demand/plans/import", b"sku,forecast_qty\nSPK-1,3\n"), 400,
                          "VALIDATION_ERROR")  # fmt: skip
    assert "period" in detail["message"]
    assert_error(upload(w.api, "/demand/plans/import", b"%PDF", name="x.pdf", content_type="application/pdf"), 415,
                 "UNSUPPORTED_MEDIA_TYPE")  # fmt: skip
    detail = assert_error(w.api.post(f"{API}/demand/plans/import", {"mode": "apply"}, format="multipart"), 400,
                          "VALIDATION_ERROR")  # fmt: skip
    assert "file" in detail["fields"]
    assert_error(w.api.post(f"{API}/demand/plans/import", {"mode": "apply"}, format="json"), 415,
                 "UNSUPPORTED_MEDIA_TYPE")  # fmt: skip
    assert_error(upload(w.api, "/demand/plans/import", b"sku,period\nSPK-1,2026-03\n", mode="later"), 400,
                 "VALIDATION_ERROR")  # fmt: skip
    settings.IMPORT_MAX_BYTES = 40
    assert_error(upload(w.api, "/demand/plans/import", b"sku,period\n" + b"SPK-1,2026-03\n" * 5), 413,
                 "PAYLOAD_TOO_LARGE")  # fmt: skip
    settings.IMPORT_MAX_BYTES = 10_000
    settings.IMPORT_MAX_ROWS = 2
    detail = assert_error(upload(w.api, "/demand/plans/import", b"sku,period\n" + b"SPK-1,2026-03\n" * 3), 400,
                          "VALIDATION_ERROR")  # fmt: skip
    assert "2" in detail["message"]
    assert IntegrationBatch.objects.count() == 0


def test_demand_actuals_import_records_actuals(w):
    content = xlsx_content([["sku", "period", "actual_qty"], ["SPK-1", "2026-03", 95]])
    response = upload(w.api, "/demand/actuals/import", content, name="a.xlsx", content_type=XLSX_TYPE, mode="apply")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "completed"
    w.plan.refresh_from_db()
    assert w.plan.actual_qty == 95


def test_products_import_is_admin_only_and_creates_products(w):
    content = b"sku,name,category\nNEW-1,New thing,Audio/Speakers\n"
    assert_error(upload(w.api, "/products/import", content, mode="apply"), 403, "PERMISSION_DENIED")
    response = upload(w.client(w.admin), "/products/import", content, mode="apply")
    assert response.status_code == 201, response.content
    product = Product.objects.get(sku="NEW-1")
    assert (product.category.name, product.category.parent.name) == ("Speakers", "Audio")


def test_import_needs_the_dataset_write_permission(w):
    content = b"sku,period,forecast_qty\nSPK-1,2026-03,150\n"
    assert_error(upload(w.client(w.users[Role.EXECUTIVE]), "/demand/plans/import", content), 403, "PERMISSION_DENIED")
    assert_error(upload(w.client(w.users[Role.DEMAND_PLANNER]), "/inventory/import", content), 403,
                 "PERMISSION_DENIED")  # fmt: skip
    assert IntegrationBatch.objects.count() == 0


# Supply, gap analysis and inventory -------------------------------------------------------------


@pytest.fixture
def stock(w):
    from planning.services.inventory import inventory_create, inventory_snapshot_capture
    from planning.services.supply import supply_plan_create

    plant = services.location_create(actor=w.admin, data={"code": "PL-1", "name": "Plant"})
    supply = supply_plan_create(
        actor=w.admin, product=w.speaker, location=plant, data={"period": date(2026, 3, 1), "planned_prod_qty": 80}
    )
    row = inventory_create(actor=w.admin, product=w.speaker, location=plant, data={"on_hand_qty": 30})
    inventory_create(actor=w.admin, product=w.mower, location=plant, data={"on_hand_qty": 5})
    inventory_snapshot_capture(actor=w.admin, period=date(2026, 2, 1))
    return SimpleNamespace(plant=plant, supply=supply, row=row)


def test_supply_gap_inventory_and_snapshot_exports(w, stock):
    api = w.client(w.users[Role.SUPPLY_PLANNER])
    rows = csv_lines(api.get(f"{API}/supply/plans/export"))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert (record["sku"], record["location"], record["planned_prod_qty"]) == ("SPK-1", "PL-1", "80.00")
    rows = csv_lines(api.get(f"{API}/supply/gap-analysis/export", {"period": "2026-03"}))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert (record["sku"], record["period"], record["demand_qty"]) == ("SPK-1", "2026-03", "100.00")
    rows = csv_lines(api.get(f"{API}/inventory/export", {"search": "SPK"}))
    assert [r[1] for r in rows[1:]] == ["SPK-1"]
    assert {"on_hand_qty", "status", "days_of_supply"} <= set(rows[0])
    rows = csv_lines(api.get(f"{API}/inventory/snapshots/export"))
    assert sorted(r[1] for r in rows[1:]) == ["MOW-1", "SPK-1"]


def test_exported_supply_and_inventory_files_import_again(w, stock):
    api = w.client(w.users[Role.SUPPLY_PLANNER])
    text = body_of(api.get(f"{API}/supply/plans/export")).decode().replace("80.00", "85")
    response = upload(api, "/supply/plans/import", text.encode(), mode="apply")
    assert response.json()["status"] == "completed", response.content
    stock.supply.refresh_from_db()
    assert (stock.supply.planned_prod_qty, stock.supply.version) == (85, 2)
    text = body_of(api.get(f"{API}/inventory/export", {"search": "SPK"})).decode().replace("30.00", "31")
    response = upload(api, "/inventory/import", text.encode(), mode="apply")
    assert response.json()["status"] == "completed", response.content
    stock.row.refresh_from_db()
    assert stock.row.on_hand_qty == 31
    assert stock.row.valuation_from_erp is False  # the computed valuation follows the new quantity


def test_export_queries_do_not_grow_with_the_rows(w, django_assert_max_num_queries):
    for month in range(5, 11):
        services.demand_plan_create(
            actor=w.planner, product=w.mower, data={"period": date(2026, month, 1), "forecast_qty": month}
        )
    # Plans bring their user references in one small query per filled reference field, not joins.
    for path in ("/demand/plans/export", "/products/export"):
        with django_assert_max_num_queries(14):
            response = w.api.get(f"{API}{path}", {"format": "csv"})
            assert len(csv_lines(response)) > 2


def test_an_unchanged_products_export_imports_as_all_skipped(w):
    admin = w.client(w.admin)
    content = body_of(admin.get(f"{API}/products/export"))
    body = upload(admin, "/products/import", content, mode="apply").json()
    assert (body["status"], body["processed"], body["skipped"], body["warnings"]) == ("completed", 2, 2, [])
    assert Product.objects.get(sku="MOW-1").name == "=Mower"  # the INT-23 quote does not stick


def test_an_oversized_upload_is_refused_before_it_is_parsed(w, settings):
    settings.IMPORT_MAX_BYTES = 10
    content = b"sku,period\n" + b"SPK-1,2026-03\n" * 10_000  # well past the multipart allowance
    assert_error(upload(w.api, "/demand/plans/import", content), 413, "PAYLOAD_TOO_LARGE")
    assert IntegrationBatch.objects.count() == 0
