"""Platform views: the console landing page and the CSP report sink."""

import json
import logging
import time

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.db.models import Count, Q
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from genxsop import context
from planning import permissions as planning_perms
from planning import selectors as planning_selectors
from planning.choices import ProductStatus

logger = logging.getLogger("genxsop.security")
MAX_REPORT_BYTES = 16 * 1024
MAX_REPORTS_PER_POST = 10
CSP_REPORTS_PER_MINUTE = 60


class DashboardView(LoginRequiredMixin, TemplateView):
    """The landing page (UI-03 placeholder): a welcome and what the role can read so far."""

    template_name = "dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if user.has_perm(planning_perms.VIEW_PRODUCT):
            context["catalog"] = _catalog_summary(user)
        return context


def _catalog_summary(user) -> dict:
    """Catalog counts over the caller's scope: one query per entity, through the selectors."""
    products = planning_selectors.product_list(user=user).aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(status=ProductStatus.ACTIVE)),
        new=Count("id", filter=Q(status=ProductStatus.NEW)),
        discontinued=Count("id", filter=Q(status=ProductStatus.DISCONTINUED)),
    )
    summary = {"products": products}
    if user.has_perm(planning_perms.VIEW_CATEGORY):
        summary["categories"] = planning_selectors.category_list(user=user).count()
    if user.has_perm(planning_perms.VIEW_LOCATION):
        summary["locations"] = planning_selectors.location_list(user=user).aggregate(
            total=Count("id"), active=Count("id", filter=Q(is_active=True))
        )
    return summary


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
