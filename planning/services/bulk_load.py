"""Set-based loading of versioned plans and inventory rows (demo data, large seed loads).

`plan_bulk_load` replays what the per-row services of `planning.services.plans` would do for
each row (create, edits that make versions, submit, approve) in memory, then writes the live
rows, their history rows and the audit rows with `bulk_create` in chunks. The rows and audit
events are the same as the per-row path produces: same statuses, versions, history rows, event
names, before/after snapshot shapes and actors. Permissions are checked once per actor and
action instead of once per row, and model validation runs per row without queries
(`clean_fields`); the database constraints cover the rest.

Domain events are not published per row: a bulk load is not a stream of user edits, and callers
refresh what depends on plans (inventory days of supply) themselves.
"""

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from genxsop.errors import Conflict, ValidationFailed
from genxsop.services import require_perm, snapshot
from governance import audit
from governance.models import Comment
from planning import events, inventory_rules
from planning import permissions as perms
from planning.choices import PlanSource, PlanStatus, PolicySource, ProductStatus
from planning.models import Inventory, Location, Product
from planning.services import plans
from planning.services.plans import PlanKind

__all__ = ["PlanLoadRow", "chunked", "inventory_bulk_load", "plan_bulk_load"]

CHUNK = 1000
_PATH = {
    PlanStatus.DRAFT: (),
    PlanStatus.SUBMITTED: ("submit",),
    PlanStatus.APPROVED: ("submit", "approve"),
    PlanStatus.REJECTED: ("submit", "reject"),
}


@dataclass
class PlanLoadRow:
    """One plan to load: the values of version 1 (business key, content, actual), the content
    changes that each make a further version, and the status the plan ends in."""

    values: dict
    edits: tuple[dict, ...] = ()
    status: str = PlanStatus.DRAFT
    comment: str = ""  # the reason given with the final decision (a rejection's reason)
    # Filled by the loader: the live row and its history rows, oldest version first, and the
    # decision comments (GOV-12) to attach once the live row has its id.
    plan: object = None
    history: list = field(default_factory=list)
    comments: list = field(default_factory=list)


def chunked(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _check_perms(kind: PlanKind, rows: list[PlanLoadRow], *, actor, approver) -> None:
    require_perm(actor, kind.add_perm)
    if any(row.edits for row in rows):
        require_perm(actor, kind.change_perm)
    if any(_PATH[row.status] for row in rows):
        require_perm(actor, kind.submit_perm)
    if any(len(_PATH[row.status]) > 1 for row in rows):
        require_perm(approver, kind.approve_perm)


def _check_products(kind: PlanKind, rows: list[PlanLoadRow]) -> None:
    product_ids = {row.values["product_id"] for row in rows}
    discontinued = Product.objects.filter(pk__in=product_ids, status=ProductStatus.DISCONTINUED)
    if discontinued.exists():
        raise Conflict(f"A {kind.label} cannot be made for a discontinued product.")


def _replay(kind: PlanKind, row: PlanLoadRow, *, actor, approver, source: str, now, full: bool) -> list[dict]:
    """Build the live row and history rows of `row` in memory; returns its audit entries (targets
    are the live row, saved later). Without `full` (volume loads audited per chunk) the per-step
    snapshots and the per-row field validation are skipped; the database constraints still hold."""
    snap = snapshot if full else _no_snapshot
    if row.status not in _PATH:
        raise ValidationFailed(fields={"status": [f"A bulk load cannot end in {row.status!r}."]})
    plan = kind.model(**row.values)
    plan.period = plans.normalise_period(plan.period)
    plan.source = source
    plan.created_by = plan.updated_by = actor
    if getattr(plan, kind.actual_field) is not None:
        plan.actual_updated_at = now
    for name in kind.text_fields:
        if getattr(plan, name) is None:
            setattr(plan, name, "")
    try:
        if full:
            plan.clean_fields(exclude=["product", "location", "created_by", "updated_by", "history_of"])
    except DjangoValidationError as exc:
        raise ValidationFailed(fields=exc.message_dict) from None
    _quantize(plan)
    target_type = audit.entity_type_of(plan)

    def entry(who, action: str, **rest) -> dict | None:
        if not full:
            return None
        return {"actor": who, "event_type": kind.event(action), "target": _Target(plan), "target_type": target_type,
                **rest}  # fmt: skip

    entries = [entry(actor, "create", after=snap(plan))]
    for edit in row.edits:
        content = {k: v for k, v in edit.items() if k in kind.content_fields}
        before = snap(plan)
        row.history.append(kind.model(**{k: getattr(plan, k) for k in kind.versioned_fields}, is_current=False))
        for key, value in content.items():
            setattr(plan, key, "" if value is None and key in kind.text_fields else value)
        _quantize(plan)
        plan.version += 1
        plan.source = source
        plan.change_reason = edit.get("change_reason") or ""
        plan.updated_by = actor
        entries.append(entry(actor, "update", before=before, after=snap(plan), message=plan.change_reason,
                             metadata={"version": plan.version, "source": source}))  # fmt: skip
    for action in _PATH[row.status]:
        who = actor if action == "submit" else approver
        before = snap(plan, plans._STATUS_FIELDS)
        _, apply, comment_kind = plans._TRANSITIONS[action]
        extra = apply(who, plan) or {}
        plan.status = plans.PLAN_TRANSITIONS[action][plan.status]
        plan.updated_by = who
        metadata = {**extra, "action": action, **({"comment_kind": comment_kind} if comment_kind else {})}
        message = (row.comment or plans.DEFAULT_REJECTION_COMMENT) if action == "reject" else ""
        if message:
            row.comments.append(Comment(entity_type=target_type, user=who, content=message, kind=comment_kind))
        entries.append(entry(who, action, before=before, after=snap(plan, plans._STATUS_FIELDS), message=message,
                             metadata=metadata))  # fmt: skip
    row.plan = plan
    return entries if full else []


def _no_snapshot(plan, fields=None) -> None:
    return None


class _Target:
    """The audit target of one replayed step: the live row's id once saved, its text at that step
    (the version number is part of it)."""

    def __init__(self, plan):
        self.plan, self.text = plan, str(plan)

    @property
    def pk(self):
        return self.plan.pk

    def __str__(self) -> str:
        return self.text


def _quantize(plan) -> None:
    """Decimals as the database returns them (2 dp), so snapshots match those of reloaded rows."""
    for f in plan._meta.concrete_fields:
        value = getattr(plan, f.attname)
        if getattr(f, "decimal_places", None) is not None and value is not None:
            setattr(plan, f.attname, Decimal(str(value)).quantize(Decimal(1).scaleb(-f.decimal_places)))


def _chunk_entry(kind: PlanKind, actor, batch: list[PlanLoadRow], history: int) -> dict:
    ids = sorted(row.plan.pk for row in batch)
    statuses: dict[str, int] = {}
    for row in batch:
        statuses[row.status] = statuses.get(row.status, 0) + 1
    first = batch[0].plan
    return {
        "actor": actor, "event_type": f"planning.{kind.name}.bulk_loaded", "target": first,
        "message": f"{len(batch)} {kind.label}s loaded in bulk",
        "metadata": {"rows": len(batch), "history_rows": history, "statuses": statuses, "first_id": ids[0],
                     "last_id": ids[-1]},
    }  # fmt: skip


@transaction.atomic
def plan_bulk_load(kind: PlanKind, *, actor, approver=None, rows: list[PlanLoadRow],
                   source: str = PlanSource.DEMO, chunk_size: int = CHUNK,
                   audit_per_row: bool = True) -> int:  # fmt: skip
    """Create many plans as if each had gone through create, edit, submit and approve.

    `actor` creates, edits and submits; `approver` approves. Needs the kind's add permission (and
    change, submit, approve when used) once per actor. Refuses discontinued products (409) and keys
    that already have a current row (the unique constraint, 409 via the database). The caller
    checks kind-specific rules over the whole set (demand granularity). Returns the rows created.

    With `audit_per_row=False` (synthetic volume loads) each chunk gets one
    `planning.<kind>.bulk_loaded` audit row instead of one row per step: its metadata counts the
    rows, history rows and final statuses and names the id range.
    """
    if not rows:
        return 0
    _check_perms(kind, rows, actor=actor, approver=approver)
    _check_products(kind, rows)
    now = timezone.now()
    created = 0
    for batch in chunked(rows, chunk_size):
        entries = []
        for row in batch:
            entries.extend(
                _replay(kind, row, actor=actor, approver=approver, source=source, now=now, full=audit_per_row)
            )
        kind.model.objects.bulk_create([row.plan for row in batch], batch_size=chunk_size)
        history = []
        for row in batch:
            for old in row.history:
                old.history_of_id = row.plan.pk
                history.append(old)
        if history:
            kind.model.objects.bulk_create(history, batch_size=chunk_size)
        comments = []
        for row in batch:
            for comment in row.comments:
                comment.entity_id = str(row.plan.pk)
                comments.append(comment)
        if comments:
            Comment.objects.bulk_create(comments, batch_size=chunk_size)
        if audit_per_row:
            audit.record_many(entries, batch_size=chunk_size)
        else:
            audit.record_many([_chunk_entry(kind, actor, batch, len(history))])
        created += len(batch)
    return created


@transaction.atomic
def inventory_bulk_load(*, actor, rows: list[Inventory], today: datetime.date | None = None,
                        policy_source: str = PolicySource.DEMO, chunk_size: int = CHUNK,
                        audit_per_row: bool = True) -> list:  # fmt: skip
    """`inventory_create` for many rows: status, valuation and days of supply are derived by
    `inventory_rules.recompute` over the whole set, then rows and their `planning.inventory.created`
    audit rows are inserted in bulk. Needs add_inventory once. ROP < SS or max < ROP is 400.
    With `audit_per_row=False` each chunk gets one `planning.inventory.bulk_loaded` row instead."""
    require_perm(actor, perms.ADD_INVENTORY)
    inactive = Location.objects.filter(pk__in={row.location_id for row in rows}, is_active=False).first()
    if inactive is not None:
        raise Conflict(f"Location {inactive.code} is deactivated and accepts no new inventory rows.")
    now = timezone.now()
    for row in rows:
        row.policy_source = policy_source
        row.updated_by = actor
        row.snapshot_at = row.snapshot_at or now
        if row.reorder_point < row.safety_stock or (row.max_stock is not None and row.max_stock < row.reorder_point):
            raise ValidationFailed(fields={"reorder_point": ["The policy levels are out of order."]})
    inventory_rules.recompute(rows, today=today)
    for batch in chunked(rows, chunk_size):
        Inventory.objects.bulk_create(batch, batch_size=chunk_size)
        if not audit_per_row:
            audit.record_many([{"actor": actor, "event_type": "planning.inventory.bulk_loaded", "target": batch[0],
                                "message": f"{len(batch)} inventory rows loaded in bulk",
                                "metadata": {"rows": len(batch)}}])  # fmt: skip
            continue
        audit.record_many(
            [{"actor": actor, "event_type": events.INVENTORY_CREATED, "target": row, "after": snapshot(row)}
             for row in batch],
            batch_size=chunk_size,
        )  # fmt: skip
    return rows
