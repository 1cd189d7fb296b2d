"""Read helpers that demand and supply plans share (WF-12 versions)."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Subquery
from django.db.models.query import ModelIterable

from genxsop.scoping import ScopedQuerySet
from planning.models import VersionedPlan

__all__: list[str] = []

PLAN_USER_FIELDS = ("created_by", "updated_by", "submitted_by", "approved_by", "rejected_by")
# A plan row shows its locking publication's stamp only; the publication's documents (the excluded rows
# can run to megabytes) would be decoded for every locked row of every page.
LOCKING_PUBLICATION_DOCUMENTS = ("locked_by_publication__excluded", "locked_by_publication__failed_gates")


class PlanQuerySet(ScopedQuerySet):
    """Plan rows that bring their user references (created_by … rejected_by) in one query per fetch.

    Joined in, the five outer joins cost PostgreSQL's planner tens of milliseconds per read;
    `prefetch_related` would spend one query per reference. Here a page or a single row costs one.
    """

    def _fetch_all(self):
        fresh = self._result_cache is None
        super()._fetch_all()
        if fresh and self._iterable_class is ModelIterable:
            plan_users_attach(self._result_cache)


def plan_users_attach(rows: list[VersionedPlan]) -> None:
    """Fill the user references of `rows` that are not loaded yet from one query."""
    if not rows:
        return
    fields = [rows[0]._meta.get_field(name) for name in PLAN_USER_FIELDS]
    wanted = {getattr(row, field.attname) for row in rows for field in fields if not field.is_cached(row)}
    wanted.discard(None)
    users = get_user_model().objects.in_bulk(wanted) if wanted else {}
    for row in rows:
        for field in fields:
            if not field.is_cached(row):
                field.set_cached_value(row, users.get(getattr(row, field.attname)))


# How many of the newest months are counted to place a page; deeper pages sort as usual.
_NEWEST_MONTHS = 1


def plan_page(queryset: QuerySet, start: int, stop: int) -> tuple[int, list]:
    """The exact row count of `queryset` and its rows `[start:stop)` (API-05 envelope).

    In the default order (`-period` first) a page within the newest months is read with its month
    pinned: PostgreSQL then walks products in SKU order and stops after the page instead of sorting
    the whole latest month. Counting the rows of those months (an index-only range scan) tells which
    month holds the page. Other pages and orders count and slice as usual; all give the same rows.
    """
    total = queryset.count()
    if start >= total:
        return total, []
    query = queryset.query
    default_order = (not query.order_by and query.default_ordering and not query.distinct and not query.is_sliced
                     and list(queryset.model._meta.ordering[:1]) == ["-period"])  # fmt: skip
    window = _month_window(queryset, start, stop, total) if default_order else None
    if window is None:
        return total, list(queryset[start:stop])
    newest, oldest, skipped = window
    months = queryset.filter(period=newest) if newest == oldest else queryset.filter(period__range=(oldest, newest))
    return total, list(months[start - skipped : stop - skipped])


def _month_window(queryset: QuerySet, start: int, stop: int, total: int):
    """(newest month, oldest month, rows in newer months) of the page, if it lies in the newest months."""
    rows = queryset.order_by()
    cutoff = rows.order_by("-period").values("period").distinct()[_NEWEST_MONTHS - 1 : _NEWEST_MONTHS]
    counts = sorted(rows.filter(period__gte=Subquery(cutoff)).values_list("period").annotate(n=Count("*")),
                    reverse=True)  # fmt: skip
    if not counts:  # fewer months than _NEWEST_MONTHS
        return None
    counted = sum(n for _, n in counts)
    if stop > counted and counted < total:
        return None
    newest = oldest = None
    skipped = offset = 0
    for period, n in counts:
        if newest is None:
            if offset + n <= start:
                offset += n
                continue
            newest, skipped = period, offset
        oldest = period
        offset += n
        if offset >= stop:
            break
    return newest, oldest, skipped


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
