"""Reading the audit log as evidence: exports and chain verification (GOV-31, GOV-34, ADR 0015).

Both are audited: an export records its filters and row count, a verification its outcome, so
the log itself shows who took evidence out of it and when the chain was last checked.
"""

import csv
import json
from collections.abc import Iterator

from django.db import transaction
from django.db.models import Max, QuerySet

from genxsop.services import require_perm
from governance import audit, audit_chain, events, selectors
from governance.permissions import EXPORT_AUDIT_EVENT, VERIFY_AUDIT_EVENT

EXPORT_FORMATS = ("csv", "jsonl")
EXPORT_COLUMNS = (
    "id", "chain_seq", "chain_hash", "occurred_at", "actor_id", "actor_type", "actor_name", "api_token_id",
    "api_token_prefix", "source", "request_id", "ip_address", "user_agent", "event_type", "target_type", "target_id",
    "target_repr", "related_type", "related_id", "changed_fields", "before", "after", "message", "metadata",
)  # fmt: skip
_JSON_COLUMNS = {"changed_fields", "before", "after", "metadata"}
_FORMULA_PREFIXES = ("=", "+", "-", "@")


class _Ref:
    """The audit target of an action on the log as a whole."""

    def __init__(self, pk: str, label: str):
        self.pk = pk
        self.label = label

    def __str__(self) -> str:
        return self.label


@transaction.atomic
def audit_log_export(*, actor, filters: dict, fmt: str) -> tuple[QuerySet, int]:
    """The rows of an export (API-GOV-35) and their count; records governance.audit_log.exported.

    Needs governance.export_auditevent (ADMIN). The rows are fixed at the newest row present
    now, so the file holds exactly the counted rows, and the export's own audit row is not in it.
    """
    require_perm(actor, EXPORT_AUDIT_EVENT)
    queryset = selectors.audit_event_list(user=actor, filters=filters)
    newest = queryset.aggregate(newest=Max("id"))["newest"] or 0
    queryset = queryset.filter(id__lte=newest)
    count = queryset.count()
    audit.record(actor=actor, event_type=events.AUDIT_LOG_EXPORTED, target=_Ref("export", "Audit log export"),
                 target_type="audit_log", after={"rows": count, "format": fmt},
                 metadata={"filters": {k: v for k, v in filters.items() if v not in (None, "")}, "rows": count,
                           "format": fmt, "up_to_id": newest})  # fmt: skip
    return queryset, count


def export_lines(queryset: QuerySet, fmt: str) -> Iterator[str]:
    """The export file, line by line: CSV with a header (JSON columns as JSON text) or JSON Lines."""
    rows = queryset.values_list(*EXPORT_COLUMNS).iterator(chunk_size=audit_chain.VERIFY_CHUNK)
    if fmt == "jsonl":
        for values in rows:
            yield json.dumps(_record(values), ensure_ascii=False, default=str) + "\n"
        return
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for values in rows:
        yield writer.writerow([_csv_value(name, value) for name, value in _record(values).items()])


def _record(values) -> dict:
    record = dict(zip(EXPORT_COLUMNS, values, strict=True))
    record["occurred_at"] = record["occurred_at"].isoformat().replace("+00:00", "Z")
    return record


def _csv_value(name: str, value) -> str:
    if value is None:
        return ""
    if name in _JSON_COLUMNS:
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    value = str(value)
    # A spreadsheet runs text that starts like a formula (INT-23); JSON Lines keeps the exact values.
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


class _Echo:
    def write(self, value):
        return value


@transaction.atomic
def audit_chain_verify(*, actor, from_seq: int = 1) -> audit_chain.Verification:
    """Recompute the hash chain and record governance.audit_chain.verified with the outcome.

    Needs governance.verify_auditevent (ADMIN). `manage.py verify_audit_chain` runs the same check
    without writing, so that it can run against a replica or a restored backup.
    """
    require_perm(actor, VERIFY_AUDIT_EVENT)
    result = audit_chain.verify(from_seq=from_seq)
    problem = result.first_problem
    audit.record(actor=actor, event_type=events.AUDIT_CHAIN_VERIFIED, target=_Ref("chain", "Audit hash chain"),
                 target_type="audit_log", after={"ok": result.ok, "rows_checked": result.rows_checked},
                 message=problem.message if problem else "",
                 metadata={"from_seq": from_seq, "last_seq": result.last_seq, "head_seq": result.head_seq,
                           "triggers": result.triggers})  # fmt: skip
    return result
