"""Reading and writing planning grids as files (INT-20, INT-21, INT-23), without the HTTP layer."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from genxsop.errors import ValidationFailed
from planning.fileio.datasets import DATASETS
from planning.fileio.errors import FileTooLarge, UnsupportedFile
from planning.fileio.reader import read_upload
from planning.fileio.toolbar import toolbar_links
from planning.fileio.writer import csv_stream, file_name, safe_text, xlsx_bytes

DEMAND = DATASETS["demand_plans"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_file(text: str, name: str = "plans.csv", content_type: str = "text/csv", bom: bool = False):
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    return SimpleUploadedFile(name, data, content_type=content_type)


def xlsx_file(rows, name: str = "plans.xlsx"):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=XLSX_TYPE)


def read(upload, dataset=DEMAND):
    return read_upload(upload, columns=dataset.import_columns, required=dataset.required_columns,
                       ignored=dataset.read_only_columns)  # fmt: skip


def test_csv_with_bom_and_mixed_case_headers_reads_rows_with_file_row_numbers():
    parsed = read(csv_file(" SKU ,Period,Forecast_QTY\nA-1,2026-03,10\n\nB-2, 2026-04 ,20\n", bom=True))
    assert parsed.rows == [
        (2, {"sku": "A-1", "period": "2026-03", "forecast_qty": "10"}),
        (4, {"sku": "B-2", "period": "2026-04", "forecast_qty": "20"}),
    ]
    assert parsed.warnings == []
    assert parsed.file_format == "csv"
    assert len(parsed.file_sha256) == 64


def test_unknown_columns_are_ignored_with_a_warning_and_read_only_columns_silently():
    parsed = read(csv_file("sku,period,colour,version,status\nA-1,2026-03,red,3,draft\n"))
    assert parsed.rows == [(2, {"sku": "A-1", "period": "2026-03"})]
    assert [w["column"] for w in parsed.warnings] == ["colour"]
    assert parsed.warnings[0]["code"] == "UNKNOWN_COLUMN"


def test_a_missing_required_column_rejects_the_file_naming_it():
    with pytest.raises(ValidationFailed) as exc:
        read(csv_file("sku,forecast_qty\nA-1,10\n"))
    assert "period" in exc.value.message
    assert "period" in exc.value.fields


def test_xlsx_first_sheet_numbers_and_dates_become_text():
    import datetime

    march = datetime.datetime(2026, 3, 1)  # noqa: DTZ001 (spreadsheet cells have no time zone)
    parsed = read(xlsx_file([["Sku", "PERIOD", "forecast_qty", "confidence"], ["A-1", march, 12.0, 80.5]]))
    assert parsed.rows == [(2, {"sku": "A-1", "period": "2026-03-01", "forecast_qty": "12", "confidence": "80.5"})]
    assert parsed.file_format == "xlsx"


def test_too_large_is_413_and_too_many_rows_is_400(settings):
    settings.IMPORT_MAX_BYTES = 50
    with pytest.raises(FileTooLarge):
        read(csv_file("sku,period\n" + "A-1,2026-03\n" * 10))
    settings.IMPORT_MAX_BYTES = 10_000
    settings.IMPORT_MAX_ROWS = 3
    with pytest.raises(ValidationFailed) as exc:
        read(csv_file("sku,period\n" + "A-1,2026-03\n" * 4))
    assert "3" in exc.value.message


@pytest.mark.parametrize(
    ("name", "content_type", "data"),
    [
        ("plans.pdf", "application/pdf", b"%PDF-1.4"),
        ("plans.xlsx", XLSX_TYPE, b"PK\x03\x04 not really a workbook"),
        ("plans.xlsx", XLSX_TYPE, b"sku,period\n"),
        ("plans.csv", "text/csv", b"sku,period\n\xff\xfe broken"),
        ("plans.csv", "image/png", b"sku,period\n"),
    ],
)
def test_unreadable_or_foreign_files_are_415(name, content_type, data):
    with pytest.raises(UnsupportedFile):
        read(SimpleUploadedFile(name, data, content_type=content_type))


def test_empty_file_and_header_only_file_are_400():
    with pytest.raises(ValidationFailed):
        read(csv_file("sku,period\n"))


def test_spreadsheet_safety_prefixes_formula_like_text_and_import_undoes_it():
    assert [safe_text(v) for v in ("=SUM(A1)", "+1", "-x", "@cmd", "plain", "")] == [
        "'=SUM(A1)", "'+1", "'-x", "'@cmd", "plain", "",
    ]  # fmt: skip
    lines = "".join(csv_stream(["sku", "qty"], [["=HYPERLINK()", Decimal("-5.5")]]))
    assert lines.splitlines() == ["sku,qty", "'=HYPERLINK(),-5.5"]  # numbers are never prefixed
    parsed = read(csv_file("sku,period\n'=A1,2026-03\n"))
    assert parsed.rows[0][1]["sku"] == "=A1"


def test_xlsx_has_typed_numbers_a_frozen_header_and_safe_text():
    workbook = load_workbook(io.BytesIO(xlsx_bytes(["sku", "qty", "price"], [["@x", Decimal("12.00"),
                                                                              Decimal("3.25")]])))  # fmt: skip
    sheet = workbook.active
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == ["sku", "qty", "price"]
    assert [c.value for c in sheet[2]] == ["'@x", 12, 3.25]
    assert sheet["B2"].data_type == "n"
    assert sheet["C2"].data_type == "n"


def test_file_names_carry_the_dataset_and_the_minute():
    import datetime

    stamp = datetime.datetime(2026, 3, 4, 5, 6, tzinfo=datetime.UTC)
    assert file_name("demand_plans", "xlsx", stamp) == "demand_plans_20260304-0506.xlsx"


def test_every_dataset_exports_its_import_columns():
    for dataset in DATASETS.values():
        if dataset.exportable and dataset.importable:
            exported = [c.name for c in dataset.export_columns]
            assert set(dataset.import_columns) <= set(exported), dataset.name


@pytest.mark.django_db
def test_toolbar_renders_nothing_for_unknown_datasets_or_anonymous_users(make_user):
    from django.contrib.auth.models import AnonymousUser

    assert toolbar_links("no_such_thing", make_user("admin")) == {"csv": None, "xlsx": None, "import": None}
    assert toolbar_links("demand_plans", AnonymousUser()) == {"csv": None, "xlsx": None, "import": None}
    assert toolbar_links("demand_plans", None) == {"csv": None, "xlsx": None, "import": None}
    viewer = make_user("viewer")
    assert toolbar_links("demand_plans", viewer)["csv"] is None
    planner = make_user("demand_planner")
    links = toolbar_links("demand_plans", planner, "status=draft&page=2&format=xlsx")
    assert links["csv"] == "/api/v1/demand/plans/export?status=draft&format=csv"
    assert links["import"] == "/import/demand_plans/"
    assert toolbar_links("products", planner)["import"] is None  # products import is admin-only
