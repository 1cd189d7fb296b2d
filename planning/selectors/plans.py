"""Read helpers that demand and supply plans share (WF-12 versions)."""

from django.db.models import Q

from planning.models import VersionedPlan

__all__: list[str] = []


def plan_versions(plan: VersionedPlan, *, fields: list[str], extra: tuple[str, ...] = ()) -> list[dict]:
    """Every version of `plan`'s live row (itself and its history rows), newest first.

    `fields` are the content fields compared with the previous version for `changed_fields`;
    `extra` are attributes shown but never counted as a change (the actual, derived values).
    `plan` may be a history row: the versions of its live row are listed.
    """
    model = type(plan)
    live_id = plan.history_of_id or plan.pk
    rows = list(
        model.objects.filter(Q(pk=live_id) | Q(history_of_id=live_id))
        .select_related("updated_by", "created_by")
        .order_by("-version")
    )
    out = []
    for index, row in enumerate(rows):
        previous = rows[index + 1] if index + 1 < len(rows) else None
        changed = [f for f in fields if previous is None or getattr(previous, f) != getattr(row, f)]
        author = row.updated_by or row.created_by
        out.append({
            "id": row.pk, "version": row.version, "is_current": row.is_current,
            **{f: getattr(row, f) for f in (*fields, *extra)},
            "status_at_version": row.status, "source": row.source,
            "change_reason": row.change_reason, "changed_fields": changed,
            "changed_by": author.pk if author else None, "changed_by_name": author.full_name if author else None,
            "changed_at": row.updated_at,
        })  # fmt: skip
    return out
