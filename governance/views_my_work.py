"""My work (UI-18): the "My approvals" queue and the header bell's dropdown (UI-01, GOV-81).

The queue lists what waits for the caller's decision: submitted demand and supply plans, proposed
consensus rows and submitted scenarios, each read through the caller's scoped selector and only
for the approve permissions the caller holds. Versions the caller submitted are left out while
segregation of duties applies (ACC-05), as they could not approve them.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Subquery
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.timesince import timesince
from django.views.generic import TemplateView

from genxsop.console import ConsolePermissionMixin
from governance.choices import NotificationKind

APPROVE_DEMAND_PLAN = "planning.approve_demandplan"
APPROVE_SUPPLY_PLAN = "planning.approve_supplyplan"
APPROVE_CONSENSUS = "forecasting.approve_forecastconsensus"
APPROVE_SCENARIO = "planning.approve_scenario"
VIEW_SCENARIO = "planning.view_scenario"
VIEW_ACTION_ITEM = "governance.view_actionitem"
APPROVER_PERMISSIONS = (APPROVE_DEMAND_PLAN, APPROVE_SUPPLY_PLAN, APPROVE_CONSENSUS, APPROVE_SCENARIO)

# Rows shown per group; the group links to its full, filtered list.
GROUP_ROWS = 25
BELL_SIZE = 10

# Shapes of includes/icon.html per notification kind.
KIND_ICONS = {
    NotificationKind.MENTION: "edit",
    NotificationKind.ASSIGNMENT: "pin",
    NotificationKind.APPROVAL_REQUEST: "check",
    NotificationKind.APPROVAL_DECISION: "info",
    NotificationKind.PUBLICATION: "sync",
    NotificationKind.ROLLBACK: "history",
    NotificationKind.JOB_COMPLETED: "forecast",
    NotificationKind.JOB_FAILED: "alert",
    NotificationKind.EXCEPTION_ASSIGNED: "inventory",
    NotificationKind.GATE_FAILED: "alert",
    NotificationKind.ACTION_ITEM_DUE: "cycle",
}


def can_see_my_approvals(user) -> bool:
    return any(user.has_perm(perm) for perm in APPROVER_PERMISSIONS)


# The bell ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bell:
    unread: int
    latest: list[dict]
    can_approve: bool
    can_see_action_items: bool


def time_ago(moment: datetime.datetime, now: datetime.datetime | None = None) -> str:
    now = now or timezone.now()
    if (now - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment, now, depth=1)} ago"


def bell_for(user) -> Bell:
    """The bell: the unread count and the latest notifications in one query (every row carries the count;
    without rows there is nothing unread), and which My work links the user may follow."""
    from governance.models import Notification
    from governance.selectors import notification_list

    unread = (
        Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True)
        .order_by()
        .values("recipient_id")
        .annotate(total=Count("pk"))
        .values("total")
    )
    rows = list(
        notification_list(user=user)
        .only("pk", "title", "kind", "created_at", "read_at")
        .annotate(unread_total=Coalesce(Subquery(unread), 0))[:BELL_SIZE]
    )
    now = timezone.now()
    latest = [
        {
            "pk": n.pk,
            "title": n.title,
            "kind": n.get_kind_display(),
            "icon": KIND_ICONS.get(n.kind, "bell"),
            "created_at": n.created_at,
            "ago": time_ago(n.created_at, now),
            "unread": n.read_at is None,
        }
        for n in rows
    ]
    return Bell(unread=rows[0].unread_total if rows else 0, latest=latest, can_approve=can_see_my_approvals(user),
                can_see_action_items=user.has_perm(VIEW_ACTION_ITEM))  # fmt: skip


# My approvals ----------------------------------------------------------------------------------------


def _list_url(url_name: str, **params) -> str:
    try:
        url = reverse(url_name)
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode(params)}" if params else url


def _reverse(url_name: str, *args) -> str:
    try:
        return reverse(url_name, args=args)
    except NoReverseMatch:
        return ""


def _who(user) -> str:
    return (user.full_name or user.email) if user is not None else ""


def _period(value) -> str:
    return value.strftime("%Y-%m") if value else ""


def _group(key: str, title: str, queryset, row, all_url: str, submitter_field: str, user) -> dict:
    if settings.ENFORCE_SEGREGATION_OF_DUTIES:
        queryset = queryset.exclude(**{submitter_field: user.pk})
    count = queryset.count()
    rows = [row(obj) for obj in queryset[:GROUP_ROWS]] if count else []
    return {"key": key, "title": title, "count": count, "rows": rows, "all_url": all_url}


def _plan_row(detail_url_name: str, with_location: bool):
    def row(plan) -> dict:
        where = f" @ {plan.location.code}" if with_location else ""
        series = "" if with_location else f"{plan.region} / {plan.channel}"
        return {"reference": f"{plan.product.sku}{where}", "name": plan.product.name, "series": series,
                "period": _period(plan.period), "version": plan.version, "by": _who(plan.submitted_by),
                "at": plan.submitted_at, "url": _reverse(detail_url_name, plan.pk)}  # fmt: skip

    return row


def _consensus_row(row) -> dict:
    from forecasting.views import workbench_url

    url = workbench_url(row.product_id, row.region, row.channel, "forecast", run=row.forecast_run_id,
                        period=_period(row.period))  # fmt: skip
    return {"reference": row.product.sku, "name": row.product.name, "series": f"{row.region} / {row.channel}",
            "period": _period(row.period), "version": row.version, "by": _who(row.proposed_by),
            "at": row.proposed_at, "url": url}  # fmt: skip


def _scenario_row(scenario) -> dict:
    url = _reverse("planning:scenario_detail", scenario.pk) or _list_url("planning:scenario_list")
    return {"reference": scenario.name, "name": scenario.get_scenario_type_display(), "series": "",
            "period": _period(scenario.period), "version": None, "by": _who(scenario.submitted_by),
            "at": scenario.submitted_at, "url": url}  # fmt: skip


def approval_groups(user) -> list[dict]:
    """The caller's approval queue, one group per kind of entity the caller may approve."""
    groups = []
    if user.has_perm(APPROVE_DEMAND_PLAN):
        from planning.selectors import demand_plan_list

        queryset = demand_plan_list(user=user, filters={"status": "submitted"}).order_by("submitted_at", "pk")
        row = _plan_row("planning:demand_plan_detail", False)
        all_url = _list_url("planning:demand_plan_list", status="submitted")
        groups.append(_group("demand", "Demand plans", queryset, row, all_url, "submitted_by_id", user))
    if user.has_perm(APPROVE_SUPPLY_PLAN):
        from planning.selectors import supply_plan_list

        queryset = supply_plan_list(user=user, filters={"status": "submitted"}).order_by("submitted_at", "pk")
        row = _plan_row("planning:supply_plan_detail", True)
        all_url = _list_url("planning:supply_plan_list", status="submitted")
        groups.append(_group("supply", "Supply plans", queryset, row, all_url, "submitted_by_id", user))
    if user.has_perm(APPROVE_CONSENSUS):
        from forecasting.selectors.consensus import consensus_list

        queryset = consensus_list(user=user, filters={"status": "proposed"}).order_by("proposed_at", "pk")
        all_url = _list_url("forecasting:workbench")
        groups.append(_group("consensus", "Consensus forecasts", queryset, _consensus_row, all_url, "proposed_by_id",
                             user))  # fmt: skip
    if user.has_perm(APPROVE_SCENARIO) and user.has_perm(VIEW_SCENARIO):
        from planning.selectors import scenario_list

        queryset = scenario_list(user=user, filters={"status": "submitted"}).order_by("submitted_at", "pk")
        all_url = _list_url("planning:scenario_list", status="submitted")
        groups.append(_group("scenarios", "Scenarios", queryset, _scenario_row, all_url, "submitted_by_id", user))
    return groups


class MyApprovalsView(ConsolePermissionMixin, TemplateView):
    """UI-18 "My approvals": for approver roles only (403 otherwise, and hidden from the bell)."""

    template_name = "governance/my_approvals.html"

    def has_permission(self) -> bool:
        return can_see_my_approvals(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        groups = approval_groups(self.request.user)
        context.update(groups=groups, total=sum(g["count"] for g in groups))
        return context
