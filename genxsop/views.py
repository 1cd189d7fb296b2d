"""Platform views: the console landing page and the CSP report sink."""

import json
import logging
import time
from decimal import Decimal

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.http import HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from forecasting.series import add_months
from genxsop import context
from genxsop.readcache import cached
from planning import permissions as planning_perms
from planning.charts import bar_line_chart, line_chart, month_range, share_bar, sparkline
from planning.choices import PlanStatus
from planning.selectors import dashboard as dash

logger = logging.getLogger("genxsop.security")
MAX_REPORT_BYTES = 16 * 1024
MAX_REPORTS_PER_POST = 10
CSP_REPORTS_PER_MINUTE = 60


class DashboardView(LoginRequiredMixin, TemplateView):
    """The console home (UI-03): KPI cards, alerts, planning status, readiness, KPI strip, my work, recent
    activity and three charts, all read through planning.selectors.dashboard (the API's selectors).

    Viewers see the KPI cards, the KPI strip, the cycle status and the alert count only; every link goes to
    a page the user can open, or there is no link.
    """

    template_name = "dashboard.html"

    def get_context_data(self, **kwargs):
        from governance.choices import Role

        context = super().get_context_data(**kwargs)
        user = self.request.user
        full = user.role != Role.VIEWER
        # The same cache entries as the dashboard API (OPS-44); my work depends on the person and stays live.
        summary = cached("dashboard.summary", user, lambda: dash.dashboard_summary(user=user))
        show_all = self.request.GET.get("alerts") == "all"
        limit = 50 if show_all else dash.ALERT_LIMIT
        alerts = cached(
            "dashboard.alerts", user, lambda: dash.dashboard_alerts(user=user, limit=limit), params=(limit,)
        )
        rows = cached("dashboard.kpi_overview", user, lambda: dash.dashboard_kpi_overview(user=user), params=(None,))
        overview = {row["code"]: row for row in rows}
        context.update(
            full=full,
            summary=summary,
            cards=_kpi_cards(user, summary, overview),
            alert_total=alerts["total_alerts"],
            strip=[_strip_item(overview[code]) for code in dash.STRIP_KPIS if code in overview],
        )
        if not full:
            return context
        alert_rows = _alert_rows(user, alerts)
        health = summary["inventory_health"]
        context.update(
            alerts=alert_rows if show_all else alert_rows[:6],
            show_all_alerts=show_all,
            tiles=_planning_tiles(user, summary),
            readiness=dash.dashboard_readiness(user=user),
            can_check_readiness=user.has_perm("governance.add_readinessevaluation"),
            publish_url=_url(user, "governance.view_publication", "governance:publish"),
            my_work=dash.dashboard_my_work(user=user),
            activity=_activity(user),
            inventory_chart=_inventory_chart(health),
            inventory_url=_url(user, planning_perms.VIEW_INVENTORY, "planning:inventory_list"),
            kpi_chart=_kpi_chart(overview),
            supply_chart=_supply_chart(user),
        )
        return context


def _url(user, perm: str | None, name: str, *args, query: str = "") -> str:
    """The page's URL when the user may open it, else "" (the template then shows no link)."""
    if perm and not user.has_perm(perm):
        return ""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{query}" if query else url


def _arrow(row: dict) -> str:
    """Which way the value moved since the previous point: up, down or flat (the trend says if it is good)."""
    points = row["sparkline"]
    if row.get("trend") in (None, "stable") or len(points) < 2:
        return "flat"
    return "up" if points[-1]["value"] > points[-2]["value"] else "down"


def _kpi_cards(user, summary: dict, overview: dict) -> list[dict]:
    accuracy, otif = overview.get("forecast_accuracy") or {}, overview.get("otif") or {}
    health, cycle = summary["inventory_health"], summary["sop_cycle"]
    kpi_url = _url(user, planning_perms.VIEW_KPI_METRIC, "planning:kpi_dashboard")
    return [
        {
            "key": "forecast_accuracy",
            "label": "Forecast Accuracy",
            "kpi": accuracy,
            "arrow": _arrow(accuracy) if accuracy else "flat",
            "url": _url(user, "forecasting.view_forecastaccuracypoint", "forecasting:accuracy"),
        },
        {
            "key": "otif",
            "label": "On-Time In-Full",
            "kpi": otif,
            "arrow": _arrow(otif) if otif else "flat",
            "url": kpi_url,
        },
        {
            "key": "inventory_value",
            "label": "Inventory Value",
            "value": health["total_value"],
            "low_stock": health["low"] + health["critical"],
            "url": _url(user, planning_perms.VIEW_INVENTORY, "planning:inventory_list"),
        },
        {
            "key": "cycle",
            "label": "Active S&OP Cycle",
            "cycle": cycle,
            "url": _url(user, "governance.view_sopcycle", "governance:cycle_detail", cycle["id"]) if cycle else "",
        },
    ]


_SEVERITY_ORDER = {"critical": 0, "high": 0, "warning": 1, "medium": 1, "info": 2}


def _alert_rows(user, alerts: dict) -> list[dict]:
    """Every list of API-DASH-02 as one list of {severity, icon, text, url}, the most severe first."""
    rows = []
    inventory_url = _url(user, planning_perms.VIEW_INVENTORY, "planning:inventory_list")
    for key, severity in (("inventory_critical", "critical"), ("inventory_low", "warning")):
        for a in alerts[key]:
            url = _url(user, planning_perms.VIEW_INVENTORY, "planning:inventory_detail", a["inventory_id"])
            label = "Critical stock" if severity == "critical" else "Low stock"
            rows.append(
                {
                    "severity": severity,
                    "icon": "inventory",
                    "kind": label,
                    "url": url or inventory_url,
                    "text": f"{a['sku']} {a['product_name']} at {a['location']}: {a['on_hand']:,.0f} on hand",
                }
            )
    kpi_url = _url(user, planning_perms.VIEW_KPI_METRIC, "planning:kpi_dashboard")
    for a in alerts["kpi_alerts"]:
        rows.append({"severity": a["severity"], "icon": "gauge", "kind": "KPI", "text": a["message"], "url": kpi_url})
    accuracy_url = _url(user, "forecasting.view_forecastaccuracypoint", "forecasting:accuracy")
    for a in alerts["forecast_alerts"]:
        rows.append(
            {
                "severity": "critical" if a["severity"] == "high" else "warning",
                "icon": "forecast",
                "kind": "Forecast drift",
                "url": accuracy_url,
                "text": f"Product {a['product_id']} {a['model_type']}: MAPE up {a['degradation_pct']:.1f} pts",
            }
        )
    anomalies_url = _url(user, "forecasting.view_forecastanomaly", "forecasting:anomalies")
    for a in alerts["anomaly_alerts"]:
        rows.append(
            {
                "severity": "critical",
                "icon": "alert",
                "kind": "Anomaly",
                "url": anomalies_url,
                "text": f"{a['sku']} {a['period']:%b %Y} ({a['region']} / {a['channel']})",
            }
        )
    items_url = _url(user, "governance.view_actionitem", "governance:action_items")
    for a in alerts["overdue_action_items"]:
        rows.append(
            {
                "severity": "warning",
                "icon": "cycle",
                "kind": "Overdue action",
                "url": items_url,
                "text": f"{a['title']} ({a['owner_name']}, {a['days_overdue']} days overdue)",
            }
        )
    rows.sort(key=lambda r: _SEVERITY_ORDER.get(r["severity"], 2))
    return rows


def _plan_tile(user, key: str, label: str, counts: dict, perm: str, url_name: str, window) -> dict:
    parts = [{"key": s, "label": label_, "value": counts[s]} for s, label_ in PlanStatus.choices]
    query = f"period_from={window[0]:%Y-%m}&period_to={window[1]:%Y-%m}"
    return {
        "key": key,
        "label": label,
        "value": counts["total"],
        "bar": share_bar(parts, width=200, height=10),
        "parts": parts,
        "url": _url(user, perm, url_name, query=query),
    }


def _planning_tiles(user, summary: dict) -> list[dict]:
    window = (summary["period_from"], summary["period_to"])
    return [
        _plan_tile(
            user,
            "demand",
            "Demand Plans",
            summary["demand_plans"],
            planning_perms.VIEW_DEMAND_PLAN,
            "planning:demand_plan_list",
            window,
        ),
        _plan_tile(
            user,
            "supply",
            "Supply Plans",
            summary["supply_plans"],
            planning_perms.VIEW_SUPPLY_PLAN,
            "planning:supply_plan_list",
            window,
        ),
        {
            "key": "scenarios",
            "label": "Open Scenarios",
            "value": summary["scenarios"]["open"],
            "note": f"{summary['scenarios']['approved']} approved",
            "url": _url(user, planning_perms.VIEW_SCENARIO, "planning:scenario_list"),
        },
        {
            "key": "products",
            "label": "Products Tracked",
            "value": summary["products_tracked"],
            "note": "Active products",
            "url": _url(user, planning_perms.VIEW_PRODUCT, "planning:product_list", query="status=active"),
        },
    ]


def _strip_item(row: dict) -> dict:
    return {**row, "arrow": _arrow(row), "spark": sparkline([p["value"] for p in row["sparkline"]])}


def _activity(user) -> list[dict]:
    """The 10 latest readable events; a run of the same action by the same actor (a bulk lock, an import)
    is one line, "… and N more", so a single publication does not fill the feed."""
    from governance.views_my_work import time_ago

    now, lines = timezone.now(), []
    # Ask for everything one scan reads (300 events), so folded runs still leave ten lines when there are.
    scan = dash.ACTIVITY_SCAN
    rows = cached("dashboard.activity", user, lambda: dash.dashboard_activity(user=user, limit=scan), params=(scan,))
    for row in rows:
        last = lines[-1] if lines else None
        if last and (last["actor_name"], last["event_type"]) == (row["actor_name"], row["event_type"]):
            last["more"] += 1
            continue
        if len(lines) == 10:
            break
        lines.append({**row, "ago": time_ago(row["occurred_at"], now), "more": 0})
    return lines


_INVENTORY_PARTS = (("normal", "Normal"), ("low", "Low"), ("critical", "Critical"), ("excess", "Excess"))


def _inventory_chart(health: dict) -> dict:
    total = health["total_products"]
    parts = [
        {"key": key, "label": label, "value": health[key], "pct": round(health[key] * 100 / total, 1) if total else 0}
        for key, label in _INVENTORY_PARTS
    ]
    return {"bar": share_bar(parts, width=600, height=28), "parts": parts, "total": health["total_products"]}


_TREND_KPIS = (("forecast_accuracy", "Forecast accuracy"), ("otif", "OTIF"), ("fill_rate", "Fill rate"))


def _kpi_chart(overview: dict):
    series, periods = [], set()
    for code, label in _TREND_KPIS:
        points = (overview.get(code) or {}).get("sparkline") or []
        periods.update(p["period"] for p in points)
        series.append(
            {
                "key": f"kpi-{code.replace('_', '-')}",
                "label": label,
                "values": {p["period"]: p["value"] for p in points},
            }
        )
    if not periods:
        return None
    months = month_range(add_months(max(periods), -11), max(periods))
    chart = line_chart(months, series)
    rows = [{"month": m, "values": [s["values"].get(m) for s in series]} for m in months]
    return {
        "chart": chart,
        "legend": [(s["key"], s["label"]) for s in series],
        "rows": rows,
        "labels": [label for _, label in _TREND_KPIS],
    }


def _supply_chart(user):
    data = cached("dashboard.demand_vs_supply", user, lambda: dash.dashboard_demand_vs_supply(user=user))
    if not data["demand"] and not data["supply"]:
        return None
    window = dash.plan_window()
    months = month_range(*window)
    coverage = {
        m: (Decimal(data["supply"].get(m) or 0) * 100 / Decimal(data["demand"][m]))
        for m in months
        if data["demand"].get(m)
    }
    chart = bar_line_chart(
        months,
        [
            {"key": "demand", "label": "Demand", "values": data["demand"]},
            {"key": "supply", "label": "Supply", "values": data["supply"]},
        ],
        {"key": "coverage", "label": "Coverage", "values": coverage},
    )
    rows = [
        {"month": m, "demand": data["demand"].get(m), "supply": data["supply"].get(m), "coverage": coverage.get(m)}
        for m in months
    ]
    legend = [("demand", "Demand"), ("supply", "Supply (planned production)"), ("coverage", "Coverage %")]
    return {"chart": chart, "legend": legend, "rows": rows}


@csrf_exempt  # browsers post reports without our CSRF token
@require_POST
def csp_report(request):
    """Log CSP violation reports (API-OPS-06). Always 204: a report sink must never fail or leak."""
    # request.body would refuse bodies over DATA_UPLOAD_MAX_MEMORY_SIZE with a 400; read a bounded
    # prefix instead, so an oversized or hostile body costs at most MAX_REPORT_BYTES.
    try:
        body = request.read(MAX_REPORT_BYTES + 1)
    except Exception:
        body = b""
    truncated = len(body) > MAX_REPORT_BYTES
    reports = [] if truncated else _csp_reports(body[:MAX_REPORT_BYTES])
    if not _csp_report_allowed(request):
        return HttpResponse(status=204)
    for details in reports[:MAX_REPORTS_PER_POST] or [{}]:
        logger.warning(
            "csp_violation",
            extra={
                "blocked_uri": _field(details, "blocked-uri", "blockedURL", limit=500),
                "directive": _field(
                    details, "effective-directive", "effectiveDirective", "violated-directive", limit=200
                ),
                "document_uri": _field(details, "document-uri", "documentURL", limit=500),
                "truncated": truncated,
            },
        )
    return HttpResponse(status=204)


def _csp_reports(body: bytes) -> list[dict]:
    """The violation bodies of a legacy `{"csp-report": {...}}` post or a Reporting API batch."""
    try:
        payload = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        return []
    if isinstance(payload, dict):
        payload = [payload.get("csp-report", payload)]
    elif isinstance(payload, list):
        payload = [item.get("body") for item in payload if isinstance(item, dict)]
    else:
        return []
    return [item for item in payload if isinstance(item, dict)]


def _field(details: dict, *names: str, limit: int) -> str:
    for name in names:
        if details.get(name):
            return str(details[name])[:limit]
    return ""


def _csp_report_allowed(request) -> bool:
    """At most CSP_REPORTS_PER_MINUTE logged reports per client address: the sink is unauthenticated."""
    key = f"csp-report:{context.current().ip_address or 'unknown'}:{int(time.time() // 60)}"
    try:
        if cache.add(key, 1, 120):
            return True
        return cache.incr(key) <= CSP_REPORTS_PER_MINUTE
    except Exception:  # a cache outage must not turn the sink into an error source
        return True
