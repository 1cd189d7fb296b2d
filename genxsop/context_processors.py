"""Template context for every console page: app facts and the role-filtered navigation (UI-01)."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

# (label, url name, permission needed to see the entry (None = every signed-in user),
#  path prefix that marks the entry as current (None: the entry's own URL), icon in includes/icon.html)
NAVIGATION = [
    ("Dashboard", "dashboard", None, None, "dashboard"),
    ("Demand Planning", "planning:demand_plan_list", "planning.view_demandplan", "/demand/", "chart"),
    ("Supply Planning", "planning:supply_plan_list", "planning.view_supplyplan", "/supply/", "supply"),
    (
        "Production Scheduling",
        "planning:production_schedule",
        "planning.view_productionschedule",
        "/production-scheduling/",
        "factory",
    ),
    ("Inventory", "planning:inventory_list", "planning.view_inventory", "/inventory/", "inventory"),
    ("Forecasting", "forecasting:workbench", "forecasting.view_forecastrun", "/forecasting/", "forecast"),
    ("Scenarios", "planning:scenario_list", "planning.view_scenario", "/scenarios/", "scenario"),
    ("S&OP Cycle", "governance:cycle_list", "governance.view_sopcycle", "/sop-cycle/", "cycle"),
    ("Publish", "governance:publish", "governance.view_publication", "/publish/", "publish"),
    ("KPIs", "planning:kpi_dashboard", "planning.view_kpimetric", "/kpi/", "gauge"),
    ("Integrations", "planning:integration_batch_list", "planning.view_integrationbatch", "/integrations/", "sync"),
    ("Catalog", "planning:product_list", "planning.view_product", "/catalog/", "catalog"),
    ("Action Items", "governance:action_items", "governance.view_actionitem", "/action-items/", "check"),
    ("Decisions", "governance:decisions", "governance.view_decision", "/decisions/", "pin"),
    ("Audit Log", "governance:audit_log", "governance.view_auditevent", "/audit/", "history"),
    ("Administration", "administration:user_list", "governance.change_user", "/administration/", "admin"),
]

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥"}


def _nav_for(user, path: str) -> list[dict]:
    items = []
    for label, url_name, perm, prefix, icon in NAVIGATION:
        if perm is not None and not user.has_perm(perm):
            continue
        if url_name.startswith("admin:") and not user.is_staff:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        match = prefix or url
        current = path == url if match == "/" else path.startswith(match)
        items.append({"label": label, "url": url, "url_name": url_name, "icon": icon, "current": current})
    return items


def _bell(user):
    from governance.views_my_work import bell_for

    return bell_for(user)


def console(request) -> dict:
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    path = getattr(request, "path", "/")
    currency = settings.CURRENCY_CODE
    # The top bar's bell (GOV-81, UI-18): its unread count and latest notifications come from one
    # query, run only when a page renders the header (login and error pages do not).
    bell = SimpleLazyObject(lambda: _bell(user)) if authenticated else None
    return {
        "app_name": settings.APP_NAME,
        "app_version": settings.APP_VERSION,
        "environment": settings.ENVIRONMENT,
        "currency_code": currency,
        "currency_symbol": CURRENCY_SYMBOLS.get(currency, f"{currency} "),
        "oidc_enabled": settings.OIDC_ENABLED,
        "email_enabled": bool(settings.EMAIL_URL),
        # Lazy: login and error pages never show the sidebar, so they should not pay for the
        # permission queries (and a 500 page must not depend on the database).
        "nav_items": SimpleLazyObject(lambda: _nav_for(user, path)) if authenticated else [],
        "unread_notifications": SimpleLazyObject(lambda: bell.unread) if authenticated else 0,
        "bell": bell,
    }
