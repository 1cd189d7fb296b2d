"""Writing a grid as a CSV or XLSX download (INT-21, INT-23).

CSV streams row by row. XLSX is built with openpyxl's write-only workbook (rows are not kept in
memory as cell objects) and sent as one file: a zip archive cannot be streamed before it is closed.
"""

import csv
import datetime
import tempfile
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from genxsop.downloads import attachment
from planning.fileio.reader import CSV, XLSX

CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_PREFIXES = ("=", "+", "-", "@")


def safe_text(value: str) -> str:
    """INT-23: text a spreadsheet would run as a formula is prefixed with a single quote."""
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def file_name(dataset: str, fmt: str, now: datetime.datetime | None = None) -> str:
    stamp = timezone.localtime(now or timezone.now()).strftime("%Y%m%d-%H%M")
    return f"{dataset}_{stamp}.{fmt}"


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int | float):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return safe_text(str(value))


def _xlsx_value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        # Quantities and money have at most a few decimals: a float holds them exactly enough to show.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    # XML cannot carry most control characters; openpyxl refuses the whole workbook if a cell has one.
    return safe_text(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


class _Echo:
    def write(self, value):
        return value


def csv_stream(header: list[str], rows):
    """CSV lines (UTF-8, header first) for `rows`, an iterable of value lists."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_csv_value(v) for v in row])


XLSX_SPOOL_BYTES = 8 * 1024 * 1024


def xlsx_file(header: list[str], rows, *, sheet_title: str = "Data"):
    """One sheet, header row frozen, numbers typed as numbers, in a temporary file positioned at its
    start (see xlsx_workbook_file)."""
    return xlsx_workbook_file([(sheet_title, header, rows)])


def xlsx_workbook_file(sheets):
    """A workbook of (title, header, rows) sheets, each with its header row frozen, numbers typed as
    numbers and text made safe (INT-23), in a temporary file positioned at its start. openpyxl's
    write-only mode keeps rows out of memory while writing; the finished workbook spills to disk past
    8 MiB, so a large export is streamed from a file rather than held whole."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.freeze_panes = "A2"
        sheet.append([_xlsx_value(v) for v in header])
        for row in rows:
            sheet.append([_xlsx_value(v) for v in row])
    out = tempfile.SpooledTemporaryFile(max_size=XLSX_SPOOL_BYTES)  # noqa: SIM115 - FileResponse closes it
    workbook.save(out)
    out.seek(0)
    return out


def xlsx_bytes(header: list[str], rows, *, sheet_title: str = "Data") -> bytes:
    with xlsx_file(header, rows, sheet_title=sheet_title) as out:
        return out.read()


def file_response(*, dataset: str, fmt: str, header: list[str], rows, name: str | None = None):
    """The download, streamed: CSV row by row as `rows` is consumed, XLSX from its temporary file."""
    name = name or file_name(dataset, fmt)
    if fmt == CSV:
        response = StreamingHttpResponse(csv_stream(header, rows), content_type=CONTENT_TYPES[CSV])
    else:
        response = FileResponse(xlsx_file(header, rows, sheet_title=dataset), content_type=CONTENT_TYPES[XLSX])
    return attachment(response, name)
