"""File exports (INT-21): the list selector's rows, as CSV or XLSX, audited with filters and row count."""

from django.db import transaction
from django.db.models import QuerySet

from genxsop.errors import NotFound, ValidationFailed
from genxsop.services import require_perm
from governance import audit
from planning import events, selectors
from planning.fileio.datasets import DATASETS, Dataset
from planning.fileio.reader import FORMATS
from planning.fileio.writer import file_name, file_response

# Query parameters that shape the response rather than choose rows.
NON_FILTER_PARAMS = frozenset({"format", "page", "page_size"})


class ExportTarget:
    """What an export audit row points at: the dataset (no single row is the target)."""

    def __init__(self, dataset: str):
        self.pk = dataset
        self.dataset = dataset

    def __str__(self) -> str:
        return f"{self.dataset} export"


def export_format(value) -> str:
    value = (value or "csv").strip().lower()
    if value not in FORMATS:
        raise ValidationFailed("format must be csv or xlsx.", fields={"format": ["Choose csv or xlsx."]},
                               code="INVALID_PARAMETER")  # fmt: skip
    return value


def dataset_for(name: str, *, export: bool = False, imports: bool = False) -> Dataset:
    dataset = DATASETS.get(name)
    if dataset is None or (export and not dataset.exportable) or (imports and not dataset.importable):
        raise NotFound("Unknown dataset.")
    return dataset


def _filters_of(params) -> dict:
    out = {}
    for key in params:
        if key in NON_FILTER_PARAMS:
            continue
        values = params.getlist(key) if hasattr(params, "getlist") else [params[key]]
        values = [v for v in values if str(v).strip()]
        if values:
            out[key] = values[0] if len(values) == 1 else values
    return out


def export_rows(*, user, dataset: Dataset, params):
    """The rows the list endpoint would show for `params`, unpaginated; a selector missing is 404."""
    selector = getattr(selectors, dataset.list_selector, None)
    if selector is None:
        raise NotFound("This export is not available.")
    if dataset.list_selector == "gap_analysis":
        return selector(user=user, params=params)
    rows = selector(user=user, filters=params)
    if dataset.related and isinstance(rows, QuerySet):
        rows = rows.select_related(*dataset.related)
    return rows


def data_export(*, actor, dataset: str, params, fmt: str | None = None):
    """A download of `dataset` as the list shows it to `actor`. Needs the module's view permission.

    The audit row (event planning.data.exported) carries the filters and the row count.
    """
    definition = dataset_for(dataset, export=True)
    require_perm(actor, definition.view_perm)
    fmt = export_format(fmt if fmt is not None else params.get("format"))
    rows = export_rows(user=actor, dataset=definition, params=params)
    count = rows.count() if isinstance(rows, QuerySet) else len(rows)
    name = file_name(definition.name, fmt)
    with transaction.atomic():
        audit.record(
            actor=actor,
            event_type=events.DATA_EXPORTED,
            target=ExportTarget(definition.name),
            target_type="export",
            message=f"{definition.label} exported as {fmt.upper()} ({count} rows).",
            metadata={
                "dataset": definition.name,
                "format": fmt,
                "filters": _filters_of(params),
                "row_count": count,
                "file_name": name,
            },
        )
    columns = definition.export_columns
    source = rows.iterator(chunk_size=2000) if isinstance(rows, QuerySet) else rows
    body = ([column.read(row) for column in columns] for row in source)
    return file_response(dataset=definition.name, fmt=fmt, header=[c.name for c in columns], rows=body, name=name)


def import_template(*, actor, dataset: str, fmt: str | None):
    """An empty file with the dataset's import columns (INT-20). Needs the dataset's import permissions."""
    definition = dataset_for(dataset, imports=True)
    for perm in definition.import_perms:
        require_perm(actor, perm)
    fmt = export_format(fmt)
    return file_response(dataset=f"{definition.name}_template", fmt=fmt, header=definition.import_columns, rows=[],
                         name=f"{definition.name}_template.{fmt}")  # fmt: skip
