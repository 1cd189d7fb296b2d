"""Platform views: the console landing page and the CSP report sink."""

import json
import logging

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

logger = logging.getLogger("genxsop.security")
MAX_REPORT_BYTES = 16 * 1024


class DashboardView(LoginRequiredMixin, TemplateView):
    template_name = "dashboard.html"


@csrf_exempt  # browsers post reports without our CSRF token
@require_POST
def csp_report(request):
    body = request.body[:MAX_REPORT_BYTES]
    try:
        report = json.loads(body or b"{}")
    except ValueError:
        report = {}
    details = report.get("csp-report", report) if isinstance(report, dict) else {}
    if not isinstance(details, dict):
        details = {}
    logger.warning(
        "csp_violation",
        extra={
            "blocked_uri": str(details.get("blocked-uri", ""))[:500],
            "directive": str(details.get("violated-directive") or details.get("effective-directive") or "")[:200],
            "document_uri": str(details.get("document-uri", ""))[:500],
        },
    )
    return HttpResponse(status=204)
