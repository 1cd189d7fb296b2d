"""Template context for every console page: app facts and the role-filtered navigation (UI-01)."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse

# (label, url name, permission needed to see the entry; None = every signed-in user)
NAVIGATION = [
    ("Dashboard", "dashboard", None),
    ("Catalog", "planning:product_list", "planning.view_product"),
    ("Administration", "admin:index", "governance.view_user"),
]


def _nav_for(user) -> list[dict]:
    items = []
    for label, url_name, perm in NAVIGATION:
        if perm is not None and not user.has_perm(perm):
            continue
        if url_name.startswith("admin:") and not user.is_staff:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url, "url_name": url_name})
    return items


def console(request) -> dict:
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    return {
        "app_name": settings.APP_NAME,
        "app_version": settings.APP_VERSION,
        "environment": settings.ENVIRONMENT,
        "currency_code": settings.CURRENCY_CODE,
        "nav_items": _nav_for(user) if authenticated else [],
    }
