"""Reading an uploaded CSV or XLSX file into row dicts (INT-20).

Headers are matched case-insensitively after trimming; every value arrives as a trimmed string
("" = absent), because the batch engine parses values the same way for files and the sync API.
"""

import csv
import datetime
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from genxsop.errors import ValidationFailed
from planning.fileio.errors import FileTooLarge, UnsupportedFile

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
_XLSX_MAGIC = b"PK\x03\x04"
_CSV_TYPES = {"text/csv", "text/plain", "application/csv", "application/vnd.ms-excel", "text/comma-separated-values",
              "application/octet-stream", ""}  # fmt: skip
_XLSX_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/octet-stream",
               "application/zip", "application/x-zip-compressed", ""}  # fmt: skip


@dataclass
class ParsedFile:
    """The data rows (`row_number`, values keyed by lower-case column) and what was learnt on the way."""

    rows: list[tuple[int, dict[str, str]]]
    columns: list[str]
    warnings: list[dict] = field(default_factory=list)
    file_name: str = ""
    file_format: str = ""
    file_size: int = 0
    file_sha256: str = ""

    @property
    def file_info(self) -> dict:
        return {"file_name": self.file_name, "file_format": self.file_format, "file_size": self.file_size,
                "file_sha256": self.file_sha256}  # fmt: skip


def file_format_of(name: str, content_type: str, head: bytes) -> str:
    """CSV or XLSX from the file name, the declared type and the first bytes; anything else is 415."""
    lower = (name or "").lower()
    content_type = (content_type or "").split(";")[0].strip().lower()
    if lower.endswith(".xlsx") or content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        if head.startswith(_XLSX_MAGIC) and content_type in _XLSX_TYPES:
            return XLSX
        raise UnsupportedFile("The file is not a readable XLSX workbook.")
    named_csv = lower.endswith((".csv", ".txt")) or content_type in ("text/csv", "application/csv")
    if named_csv and content_type in _CSV_TYPES and not head.startswith(_XLSX_MAGIC):
        return CSV
    raise UnsupportedFile("Upload a CSV (.csv) or XLSX (.xlsx) file.")


def read_upload(upload, *, columns: list[str], required: list[str], ignored: list[str] = ()) -> ParsedFile:
    """Parse an uploaded file against a dataset's columns; whole-file problems raise 400/413/415."""
    max_bytes = settings.IMPORT_MAX_BYTES
    size = getattr(upload, "size", None) or 0
    if size > max_bytes:
        raise FileTooLarge(f"The file is larger than {max_bytes} bytes.", context={"max_bytes": max_bytes})
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLarge(f"The file is larger than {max_bytes} bytes.", context={"max_bytes": max_bytes})
    if not data:
        raise ValidationFailed("The file is empty.", fields={"file": ["The file is empty."]})
    fmt = file_format_of(getattr(upload, "name", ""), getattr(upload, "content_type", ""), data[:8])
    table = _csv_table(data) if fmt == CSV else _xlsx_table(data)
    parsed = _rows(table, columns=columns, required=required, ignored=ignored)
    parsed.file_name = (getattr(upload, "name", "") or "")[:255]
    parsed.file_format = fmt
    parsed.file_size = len(data)
    parsed.file_sha256 = hashlib.sha256(data).hexdigest()
    return parsed


def _csv_table(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnsupportedFile("The CSV file is not UTF-8 text.") from None
    if "\x00" in text:
        raise UnsupportedFile("The CSV file is not text.")
    try:
        yield from csv.reader(io.StringIO(text, newline=""), strict=True)
    except csv.Error as exc:
        raise UnsupportedFile(f"The CSV file cannot be read: {exc}.") from None


def _xlsx_table(data: bytes):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise UnsupportedFile("The file is not a readable XLSX workbook.") from None
    except Exception:  # openpyxl raises assorted errors on damaged parts; the file is unreadable either way
        raise UnsupportedFile("The file is not a readable XLSX workbook.") from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    except Exception:
        raise UnsupportedFile("The file is not a readable XLSX workbook.") from None
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # Whole numbers typed in a spreadsheet come back as floats: 12.0 is "12".
        return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _value(cell) -> str:
    text = str(cell).strip()
    # Undo the INT-23 guard of our own exports, so an exported file imports the original text.
    if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@"):
        return text[1:]
    return text


def _rows(table, *, columns: list[str], required: list[str], ignored=()) -> ParsedFile:
    max_rows = settings.IMPORT_MAX_ROWS
    table = enumerate(table, start=1)
    header = None
    for _number, raw in table:
        if any(str(cell).strip() for cell in raw):
            header = [str(cell).strip().lower() for cell in raw]
            break
    if header is None:
        raise ValidationFailed("The file has no header row.", fields={"file": ["The file has no header row."]})
    known = set(columns)
    positions: dict[str, int] = {}
    warnings = []
    for index, name in enumerate(header):
        if not name:
            continue
        if name in positions:
            raise ValidationFailed(f"Column {name} appears twice.", fields={name: ["The column appears twice."]})
        if name in known:
            positions[name] = index
        elif name in ignored:  # the read-only columns of an export
            positions.setdefault(f"\x00{name}", index)
        else:
            positions.setdefault(f"\x00{name}", index)
            warnings.append({"code": "UNKNOWN_COLUMN", "column": name,
                             "message": f"Column {name} is not part of this dataset and was ignored."})  # fmt: skip
    missing = [name for name in required if name not in positions]
    if missing:
        message = f"Required column{'s' if len(missing) > 1 else ''} missing: {', '.join(missing)}."
        raise ValidationFailed(message, fields={name: ["This column is required."] for name in missing},
                               code="VALIDATION_ERROR")  # fmt: skip
    wanted = {name: index for name, index in positions.items() if name in known}
    rows = []
    for number, raw in table:
        values = {name: _value(raw[index] if index < len(raw) else "") for name, index in wanted.items()}
        if not any(str(cell).strip() for cell in raw):
            continue
        rows.append((number, values))
        if len(rows) > max_rows:
            raise ValidationFailed(f"The file has more than {max_rows} data rows.",
                                   fields={"file": [f"At most {max_rows} data rows."]},
                                   context={"max_rows": max_rows})  # fmt: skip
    if not rows:
        raise ValidationFailed("The file has no data rows.", fields={"file": ["The file has no data rows."]})
    return ParsedFile(rows=rows, columns=list(wanted), warnings=warnings)
