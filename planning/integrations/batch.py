"""The batch engine (INT-01…04a, WF-80): every ERP/WMS sync call and every file import runs here.

`run_batch` validates the envelope, enforces the idempotency key, validates and plans every item,
applies the valid ones (all or nothing when atomic) and records the IntegrationBatch row with
every item's result and the exact response body.
"""

import datetime
import hashlib
import json
import logging
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from genxsop import context
from genxsop.errors import IdempotencyInProgress, IdempotencyKeyReused, ValidationFailed
from genxsop.services import require_perm, snapshot
from governance import audit, bus
from planning import events
from planning.choices import BatchChannel, BatchStatus
from planning.integrations.appliers import APPLIERS, CHUNK_SIZE, Applier, Context, Item
from planning.integrations.values import (
    DUPLICATE_IN_BATCH,
    INVALID_VALUE,
    ItemError,
    is_absent,
    parse_bool,
    parse_instant,
    parse_period,
)
from planning.models import IntegrationBatch

logger = logging.getLogger(__name__)

__all__ = ["HEADER_KEY", "MAX_INLINE_ERRORS", "request_hash", "run_batch"]

# The API view passes the Idempotency-Key header in meta under this name (INT-01).
HEADER_KEY = "idempotency_key_header"
KEY_FIELDS = ("idempotency_key", "batch_id", HEADER_KEY)
MAX_INLINE_ERRORS = 1000
_BOOL_META = ("dry_run", "atomic", "create_missing_locations", "create_missing_plans")


def request_hash(operation: str, items: list, meta: dict) -> str:
    """INT-03: SHA-256 of the canonical JSON of the operation, the items and the meta without the key fields."""
    body = {"operation": operation, "items": items, "meta": {k: v for k, v in meta.items() if k not in KEY_FIELDS}}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _Rejected(Exception):
    def __init__(self, message: str, fields: dict | None = None):
        super().__init__(message)
        self.message, self.fields = message, fields or {}


def _text_meta(meta: dict, name: str, max_length: int, *, required: bool = False) -> str:
    value = meta.get(name)
    if value is None or value == "":
        if required:
            raise _Rejected(f"meta.{name} is required.", {f"meta.{name}": ["This field is required."]})
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise _Rejected(f"meta.{name} must be a string.", {f"meta.{name}": ["Must be a string."]})
    value = str(value).strip()
    if not value and required:
        raise _Rejected(f"meta.{name} is required.", {f"meta.{name}": ["This field is required."]})
    if len(value) > max_length:
        raise _Rejected(f"meta.{name} is too long.", {f"meta.{name}": [f"At most {max_length} characters."]})
    return value


def _envelope(meta: dict, items, channel: str) -> dict:
    """INT-01: the validated meta (with `as_of_parsed`, `snapshot_period_parsed`); raises _Rejected."""
    if not isinstance(meta, dict):
        raise _Rejected("meta must be an object.", {"meta": ["Must be an object."]})
    out = dict(meta)
    out["source_system"] = _text_meta(meta, "source_system", 100, required=True)
    out["batch_id"] = _text_meta(meta, "batch_id", 100)
    out["idempotency_key"] = _text_meta(meta, "idempotency_key", 128)
    out[HEADER_KEY] = _text_meta(meta, HEADER_KEY, 128)
    for name in _BOOL_META:
        if name in meta and meta[name] is not None:
            try:
                out[name] = parse_bool(meta[name], name)
            except ItemError:
                raise _Rejected(
                    f"meta.{name} must be true or false.", {f"meta.{name}": ["Must be a boolean."]}
                ) from None
    if not is_absent(meta.get("as_of")):
        out["as_of_parsed"] = parse_instant(meta["as_of"])
        if out["as_of_parsed"] is None:
            raise _Rejected("meta.as_of must be an ISO date-time.", {"meta.as_of": ["Must be an ISO date-time."]})
    if not is_absent(meta.get("snapshot_period")):
        try:
            out["snapshot_period_parsed"] = parse_period(meta["snapshot_period"], "snapshot_period")
        except ItemError as exc:
            raise _Rejected(f"meta.{exc.message}", {"meta.snapshot_period": [exc.message]}) from None
    totals = meta.get("control_totals")
    if totals is not None and (not isinstance(totals, dict) or not set(totals) <= {"items", "quantity_sum"}):
        raise _Rejected("meta.control_totals must be {items, quantity_sum}.", {"meta.control_totals": ["Invalid."]})
    limit = settings.INTEGRATION_MAX_ITEMS if channel == BatchChannel.API else settings.IMPORT_MAX_ROWS
    if not isinstance(items, list) or not 1 <= len(items) <= limit:
        raise _Rejected(f"items must be a list of 1 to {limit} items.", {"items": [f"Give 1 to {limit} items."]})
    return out


def _effective_key(meta: dict) -> str | None:
    """INT-03: meta.idempotency_key, else the header, else meta.batch_id; body and header must agree."""
    body, header = meta["idempotency_key"], meta[HEADER_KEY]
    if body and header and body != header:
        raise _Rejected("meta.idempotency_key and the Idempotency-Key header differ.",
                        {"meta.idempotency_key": ["Disagrees with the Idempotency-Key header."]})  # fmt: skip
    return body or header or meta["batch_id"] or None


def _check_control_totals(applier_cls: type[Applier], meta: dict, items: list) -> None:
    """INT-04a: the declared count and quantity sum must match what arrived (a truncated payload)."""
    totals = meta.get("control_totals")
    if not totals:
        return
    if "items" in totals and totals["items"] != len(items):
        raise _Rejected(f"Control totals mismatch: {len(items)} items received, {totals['items']} declared.",
                        {"meta.control_totals": ["items does not match."]})  # fmt: skip
    if "quantity_sum" in totals and applier_cls.quantity_field:
        total = Decimal(0)
        for item in items:
            value = item.get(applier_cls.quantity_field) if isinstance(item, dict) else None
            try:
                total += Decimal(str(value)) if not is_absent(value) and not isinstance(value, bool) else 0
            except ArithmeticError:
                continue
        try:
            declared = Decimal(str(totals["quantity_sum"]))
        except ArithmeticError:
            declared = None
        if declared is None or abs(declared - total) > Decimal("0.005"):
            raise _Rejected(f"Control totals mismatch: quantity sum {total} received, {totals['quantity_sum']} "
                            "declared.", {"meta.control_totals": ["quantity_sum does not match."]})  # fmt: skip


def _batch_fields(*, actor, operation, channel, meta, api_token, file_info) -> dict:
    info = file_info or {}
    return {
        "channel": channel,
        "operation": operation,
        "source_system": str(meta.get("source_system") or "")[:100] if isinstance(meta, dict) else "",
        "batch_id": str(meta.get("batch_id") or "")[:100] if isinstance(meta, dict) else "",
        "dry_run": bool(meta.get("dry_run")) if isinstance(meta, dict) else False,
        "atomic": bool(meta.get("atomic")) if isinstance(meta, dict) else False,
        "actor": actor,
        "api_token": api_token,
        "request_id": context.request_id()[:64] if context.request_id() != "-" else "",
        "file_name": str(info.get("file_name") or "")[:255],
        "file_format": str(info.get("file_format") or "")[:10],
        "file_size": info.get("file_size"),
        "file_sha256": str(info.get("file_sha256") or "")[:64],
    }


def _replay(existing: IntegrationBatch, digest: str):
    if existing.request_hash != digest:
        raise IdempotencyKeyReused(context={"batch_uuid": str(existing.batch_uuid)})
    if existing.status == BatchStatus.PROCESSING or existing.response is None:
        raise IdempotencyInProgress(context={"batch_uuid": str(existing.batch_uuid)})
    return existing, {**existing.response, "replayed": True}, True


def _find_key(source_system: str, operation: str, key: str) -> IntegrationBatch | None:
    existing = IntegrationBatch.objects.filter(source_system=source_system, operation=operation,
                                               idempotency_key=key).first()  # fmt: skip
    if existing is None:
        return None
    expiry = timezone.now() - datetime.timedelta(days=settings.INTEGRATION_BATCH_RETENTION_DAYS)
    if existing.created_at < expiry:
        # INT-03: keys are remembered for the retention period only; an older batch frees its key.
        IntegrationBatch.objects.filter(pk=existing.pk).update(idempotency_key=None)
        return None
    return existing


def run_batch(*, actor, operation: str, channel: str, items: list[dict], meta: dict, api_token=None,
              file_info: dict | None = None):  # fmt: skip
    """Run one sync call or file import; returns (batch, response body, replayed).

    Needs the operation's permission (ERP sync: add_integrationbatch; imports: the dataset's write
    permission). An invalid envelope, a missing key or a control-total mismatch is 400 with the
    batch recorded as `rejected`; a key reused with another body or still processing is 409.
    Otherwise the answer is the INT-02 body whatever the items' fate. Dry runs write only the
    batch and never consume a key; a replay writes nothing.
    """
    applier_cls = APPLIERS.get(operation)
    if applier_cls is None or channel not in BatchChannel.values:
        raise ValidationFailed(f"Unknown operation {operation!r} or channel {channel!r}.")
    require_perm(actor, applier_cls.permission)
    raw_meta = meta if isinstance(meta, dict) else {}
    fields = _batch_fields(actor=actor, operation=operation, channel=channel, meta=raw_meta, api_token=api_token,
                           file_info=file_info)  # fmt: skip
    try:
        meta = _envelope(meta, items, channel)
        key = _effective_key(meta)
        dry_run = bool(meta.get("dry_run"))
        if key is None and not dry_run and channel == BatchChannel.API and settings.INTEGRATION_REQUIRE_IDEMPOTENCY_KEY:
            raise _Rejected("idempotency_key or batch_id is required", {"meta.idempotency_key": ["Required."]})
    except _Rejected as exc:
        _reject(fields, exc)
    public = {k: v for k, v in meta.items() if k not in ("as_of_parsed", "snapshot_period_parsed")}
    digest = request_hash(operation, items, public)
    if channel == BatchChannel.FILE and fields["file_sha256"]:
        digest = fields["file_sha256"]
    claim_key = None if dry_run else key
    if claim_key:
        existing = _find_key(meta["source_system"], operation, claim_key)
        if existing is not None:
            return _replay(existing, digest)
    try:
        _check_control_totals(applier_cls, meta, items)
    except _Rejected as exc:
        _reject({**fields, "request_hash": digest}, exc)
    fields.update(source_system=meta["source_system"], batch_id=meta["batch_id"], dry_run=dry_run,
                  atomic=bool(meta.get("atomic")), request_hash=digest)  # fmt: skip
    try:
        with transaction.atomic():
            batch = IntegrationBatch.objects.create(**fields, idempotency_key=claim_key)
    except IntegrityError:
        existing = _find_key(meta["source_system"], operation, claim_key)
        if existing is None:
            raise
        return _replay(existing, digest)
    try:
        body = _process(batch, applier_cls, actor=actor, items=items, meta=meta, key=key)
    except Exception:
        logger.exception("integration_batch_crashed", extra={"batch_uuid": str(batch.batch_uuid)})
        IntegrationBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.FAILED, idempotency_key=None,
                                                            completed_at=timezone.now())  # fmt: skip
        raise
    return batch, body, False


def _reject(fields: dict, exc: _Rejected):
    """WF-80 rejected: the batch is recorded without a key (a corrected call may reuse it), then 400."""
    batch = IntegrationBatch(**fields, status=BatchStatus.REJECTED, completed_at=timezone.now())
    batch.response = {"success": False, "status": BatchStatus.REJECTED, "message": exc.message,
                      "batch_uuid": str(batch.batch_uuid), "fields": exc.fields}  # fmt: skip
    batch.save()
    raise ValidationFailed(exc.message, fields={k: list(v) for k, v in exc.fields.items()},
                           context={"batch_uuid": str(batch.batch_uuid)})  # fmt: skip


def _chunks(seq: list, size: int = CHUNK_SIZE):
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


def _process(batch: IntegrationBatch, applier_cls: type[Applier], *, actor, items, meta, key) -> dict:
    ctx = Context(actor=actor, operation=batch.operation, channel=batch.channel, meta=meta,
                  batch_uuid=str(batch.batch_uuid), api_token_id=batch.api_token_id, now=timezone.now())  # fmt: skip
    applier = applier_cls(ctx)
    parsed = _parse(applier, items)
    valid = [i for i in parsed if not i.failed]
    dry_run, atomic = batch.dry_run, batch.atomic
    if applier.set_based:
        for chunk in _chunks(valid):
            applier.prepare(chunk)
            for item in chunk:
                _guard(item, applier.plan)
        failures = any(i.failed for i in parsed)
        rolled_back = atomic and failures
        if not dry_run and not rolled_back:
            rolled_back = _write_set(applier, parsed, atomic=atomic)
    else:
        rolled_back = _apply_rows(applier, parsed, valid, dry_run=dry_run, atomic=atomic)
    return _finish(batch, parsed, rolled_back=rolled_back, key=key, actor=actor)


def _parse(applier: Applier, items: list) -> list[Item]:
    parsed, seen = [], set()
    for index, raw in enumerate(items):
        item = Item(index=index, raw=raw)
        item.key = applier.item_key(raw) if isinstance(raw, dict) else ""
        try:
            applier.parse(item)
        except ItemError as exc:
            item.fail(exc)
            parsed.append(item)
            continue
        dedupe = applier.dedupe_key(item)
        if dedupe in seen:
            item.fail(ItemError(DUPLICATE_IN_BATCH, "The same key appears earlier in this batch.", ""))
        seen.add(dedupe)
        parsed.append(item)
    return parsed


def _guard(item: Item, step) -> None:
    try:
        step(item)
    except ItemError as exc:
        item.fail(exc)


def _write_set(applier: Applier, parsed: list[Item], *, atomic: bool) -> bool:
    """Write the planned changes chunk by chunk. Non-atomic: a chunk the database refuses is retried
    item by item, so one bad row does not undo the others. Returns True when everything rolled back."""
    ready = [i for i in parsed if not i.failed and i.outcome in ("created", "updated", "skipped")]
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Foreign keys are deferred to commit by default: checked per statement, a bad row fails in
                # its own savepoint instead of failing the whole batch at commit.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for chunk in _chunks(ready):
                applier.start_write()
                try:
                    with transaction.atomic():
                        applier.write(chunk)
                except DatabaseError as exc:
                    applier.forget_inserted()
                    if atomic:
                        for item in chunk:
                            item.fail(ItemError(INVALID_VALUE, f"The database refused the batch: {exc}"))
                        raise
                    for item in chunk:
                        try:
                            with transaction.atomic():
                                applier.write([item])
                        except DatabaseError as row_exc:
                            applier.forget_inserted()
                            item.fail(ItemError(INVALID_VALUE, f"The database refused this item: {row_exc}"))
                        applier.start_write()
    except DatabaseError:
        return True
    return False


def _apply_rows(applier: Applier, parsed: list[Item], valid: list[Item], *, dry_run: bool, atomic: bool) -> bool:
    """Row appliers: each item through the services in its own savepoint. Dry runs and failed atomic
    batches run the same way inside a savepoint that is rolled back, so validation is complete."""
    with transaction.atomic():
        for chunk in _chunks(valid):
            applier.prepare(chunk)
            for item in chunk:
                try:
                    with transaction.atomic():
                        applier.apply_row(item)
                except ItemError as exc:
                    item.fail(exc)
        rolled_back = atomic and any(i.failed for i in parsed)
        if dry_run or rolled_back:
            transaction.set_rollback(True)
    return rolled_back


def _finish(batch: IntegrationBatch, parsed: list[Item], *, rolled_back: bool, key, actor) -> dict:
    failed = sum(1 for i in parsed if i.failed)
    counts = dict.fromkeys(("created", "updated", "skipped"), 0)
    if not rolled_back:
        for item in parsed:
            if item.outcome in counts:
                counts[item.outcome] += 1
    results = []
    for item in parsed:
        outcome = item.outcome if not (rolled_back and not item.failed) else "not_applied"
        results.append({"index": item.index, "key": item.key, "outcome": outcome, "code": item.code,
                        "message": item.message, "field": item.field})  # fmt: skip
    processed = len(parsed)
    if failed == 0:
        status = BatchStatus.COMPLETED
    elif rolled_back or failed == processed:
        status = BatchStatus.FAILED
    else:
        status = BatchStatus.PARTIAL
    errors = [{k: r[k] for k in ("index", "key", "code", "message", "field")} for r in results if r["code"]]
    message = (f"Processed {processed} items: {counts['created']} created, {counts['updated']} updated, "
               f"{counts['skipped']} skipped, {failed} failed.")  # fmt: skip
    if rolled_back:
        message += " Atomic batch: nothing was applied."
    if batch.dry_run:
        message += " Dry run: nothing was written."
    if len(errors) > MAX_INLINE_ERRORS:
        message += f" The first {MAX_INLINE_ERRORS} errors are listed; the batch record keeps all."
    body = {
        "success": failed == 0, "status": status, "source_system": batch.source_system, "batch_id": batch.batch_id,
        "batch_uuid": str(batch.batch_uuid), "idempotency_key": key, "processed": processed, **counts,
        "failed": failed, "dry_run": batch.dry_run, "replayed": False, "message": message,
        "errors": errors[:MAX_INLINE_ERRORS],
    }  # fmt: skip
    batch.status, batch.processed, batch.failed = status, processed, failed
    batch.created, batch.updated, batch.skipped = counts["created"], counts["updated"], counts["skipped"]
    batch.item_results, batch.response, batch.completed_at = results, body, timezone.now()
    with transaction.atomic():
        batch.save(update_fields=["status", "processed", "created", "updated", "skipped", "failed", "item_results",
                                  "response", "completed_at"])  # fmt: skip
        if not batch.dry_run:
            audit.record(actor=actor, event_type=events.INTEGRATION_BATCH_COMPLETED, target=batch,
                         after=snapshot(batch, ["operation", "channel", "source_system", "batch_id", "status",
                                                "processed", "created", "updated", "skipped", "failed"]),
                         metadata={"batch_uuid": str(batch.batch_uuid),
                                   "api_token_id": batch.api_token_id})  # fmt: skip
            bus.publish_on_commit(events.INTEGRATION_BATCH_COMPLETED, integration_batch_id=batch.pk)
    return body
