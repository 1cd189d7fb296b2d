"""File imports (INT-20): parse the upload, then apply it through the batch engine of the sync API.

Item index i of the batch is data row i of the file, so the engine's item errors become row-level
errors (file row number, column) here.
"""

from datetime import timedelta

from django.utils import timezone

from genxsop.errors import ValidationFailed
from genxsop.services import require_perm
from planning.choices import BatchChannel, BatchStatus
from planning.fileio.exports import dataset_for
from planning.fileio.reader import ParsedFile, read_upload
from planning.integrations.batch import run_batch
from planning.models import IntegrationBatch

MODES = ("validate", "apply")
REPLAY_WINDOW = timedelta(hours=24)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def _flag(name: str, value, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return default if text == "" else False
    raise ValidationFailed(f"{name} must be true or false.", fields={name: ["Must be true or false."]})


def import_options(data) -> dict:
    """`mode` (validate|apply, default validate), `atomic` (default true), `force` (default false)."""
    mode = (data.get("mode") or "validate").strip().lower()
    if mode not in MODES:
        raise ValidationFailed("mode must be validate or apply.", fields={"mode": ["Choose validate or apply."]})
    return {
        "mode": mode,
        "atomic": _flag("atomic", data.get("atomic"), True),
        "force": _flag("force", data.get("force"), False),
    }


def _applied_twin(operation: str, sha256: str) -> IntegrationBatch | None:
    return (
        IntegrationBatch.objects.filter(
            channel=BatchChannel.FILE,
            operation=operation,
            file_sha256=sha256,
            dry_run=False,
            status=BatchStatus.COMPLETED,
            created_at__gte=timezone.now() - REPLAY_WINDOW,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _row_errors(parsed: ParsedFile, errors) -> list[dict]:
    out = []
    for error in errors or []:
        index = error.get("index")
        row = parsed.rows[index][0] if isinstance(index, int) and 0 <= index < len(parsed.rows) else None
        field = error.get("field") or ""
        out.append({
            "row": row, "column": field.split(".")[0] if field else "", "code": error.get("code", ""),
            "message": error.get("message", ""), "key": error.get("key", ""),
        })  # fmt: skip
    return out


def batch_representation(batch: IntegrationBatch, *, parsed: ParsedFile, errors, replayed: bool) -> dict:
    """INT-20's answer: the batch, its counts and the row-level errors and column warnings of the file."""
    # The batch keeps every item's result; the inline errors of the sync API stop at 1000.
    recorded = [r for r in (batch.item_results or []) if r.get("code")]
    errors = recorded or errors or []
    return {
        "id": batch.pk,
        "batch_uuid": str(batch.batch_uuid),
        "operation": batch.operation,
        "channel": batch.channel,
        "status": batch.status,
        "success": batch.status == BatchStatus.COMPLETED and not batch.failed,
        "mode": "validate" if batch.dry_run else "apply",
        "dry_run": batch.dry_run,
        "atomic": batch.atomic,
        "replayed": replayed,
        "processed": batch.processed,
        "created": batch.created,
        "updated": batch.updated,
        "skipped": batch.skipped,
        "failed": batch.failed,
        "message": (batch.response or {}).get("message", ""),
        "file_name": batch.file_name,
        "file_format": batch.file_format,
        "file_size": batch.file_size,
        "file_sha256": batch.file_sha256,
        "created_at": batch.created_at,
        "completed_at": batch.completed_at,
        "warnings": parsed.warnings,
        "errors": _row_errors(parsed, errors),
    }


def file_import(*, actor, dataset: str, upload, options: dict, api_token=None) -> tuple[IntegrationBatch, dict]:
    """Validate or apply an uploaded file of `dataset`. Needs the dataset's add and change permissions.

    Whole-file problems raise (400 missing column or too many rows, 413 too large, 415 unreadable);
    row problems are reported in the batch. The same content applied in the last 24 hours answers
    that batch again (`replayed`) unless `force`.
    """
    definition = dataset_for(dataset, imports=True)
    for perm in definition.import_perms:
        require_perm(actor, perm)
    if upload is None:
        raise ValidationFailed(
            "Attach the file as the multipart field `file`.", fields={"file": ["A file is required."]}
        )
    parsed = read_upload(upload, columns=definition.import_columns, required=definition.required_columns,
                         ignored=definition.read_only_columns)  # fmt: skip
    if options["mode"] == "apply" and not options["force"]:
        twin = _applied_twin(definition.operation, parsed.file_sha256)
        if twin is not None:
            return twin, batch_representation(twin, parsed=parsed, errors=None, replayed=True)

    batch, body, replayed = run_batch(
        actor=actor,
        operation=definition.operation,
        channel=BatchChannel.FILE,
        items=[values for _, values in parsed.rows],
        meta={"source_system": "file", "dry_run": options["mode"] == "validate", "atomic": options["atomic"]},
        api_token=api_token,
        file_info=parsed.file_info,
    )
    body = body or {}
    return batch, batch_representation(batch, parsed=parsed, errors=body.get("errors"), replayed=replayed)
