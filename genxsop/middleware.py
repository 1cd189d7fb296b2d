"""Request context, timing, request logging and security headers (OPS-01…09)."""

import logging
import re
import time

from django.conf import settings

from genxsop import context

logger = logging.getLogger("genxsop.request")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_TRACEPARENT_RE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
PROBE_PATHS = ("/health", "/ready", "/metrics")


def client_ip(request) -> str:
    """REMOTE_ADDR, or the n-th address from the right of X-Forwarded-For behind n trusted proxies (OPS-05)."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def _source_for(path: str) -> str:
    if path.startswith("/api/"):
        return "api"
    if path.startswith(f"/{settings.ADMIN_URL}"):
        return "admin"
    return "ui"


def _trace_id(request) -> str:
    match = _TRACEPARENT_RE.match(request.META.get("HTTP_TRACEPARENT", "").strip().lower())
    if match and match.group(1) != "0" * 32:
        return match.group(1)
    return context.new_request_id().replace("-", "")


class RequestContextMiddleware:
    """Outermost middleware: assigns the request id, times the request and logs its completion."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        if settings.ENABLE_REQUEST_ID and _REQUEST_ID_RE.match(incoming):
            request_id = incoming
        else:
            request_id = context.new_request_id()
        request.request_id = request_id
        token = context.set_context(
            context.RequestContext(
                request_id=request_id,
                source=_source_for(request.path),
                ip_address=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:255],
                trace_id=_trace_id(request),
            )
        )
        try:
            response = self.get_response(request)
            duration_ms = (time.perf_counter() - started) * 1000
            if settings.ENABLE_REQUEST_ID:
                response["X-Request-ID"] = request_id
                response["X-Response-Time-Ms"] = f"{duration_ms:.2f}"
            if settings.ENABLE_REQUEST_LOGGING:
                self._log(request, response, duration_ms)
            return response
        finally:
            context.reset_context(token)

    def _log(self, request, response, duration_ms: float) -> None:
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        probe = request.path.rstrip("/") in PROBE_PATHS
        level = logging.INFO if (not probe or settings.LOG_PROBES) else logging.DEBUG
        logger.log(
            level,
            "request_completed",
            extra={
                "method": request.method,
                "path": request.path,
                "route": match.view_name if match else None,
                "status": response.status_code,
                "duration_ms": round(duration_ms, 2),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "client_ip": context.current().ip_address,
                "trace_id": context.current().trace_id,
            },
        )


class SecurityHeadersMiddleware:
    """Headers Django does not set itself, and the deny-all CSP for API responses (OPS-08/09)."""

    API_CSP = "default-src 'none'; frame-ancestors 'none'"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", "geolocation=(), microphone=(), camera=()")
        response.setdefault("X-XSS-Protection", "1; mode=block")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.path.startswith("/api/") and not request.path.startswith("/api/docs"):
            header = (
                "Content-Security-Policy-Report-Only"
                if settings.SECURITY_CSP_REPORT_ONLY
                else "Content-Security-Policy"
            )
            response[header] = self.API_CSP
        return response
