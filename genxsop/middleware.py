"""Request context, timing, request logging and security headers (OPS-01…09)."""

import logging
import time

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.utils.functional import empty

from genxsop import context

logger = logging.getLogger("genxsop.request")

PROBE_PATHS = ("/health", "/ready", "/metrics")


def client_ip(request) -> str:
    """REMOTE_ADDR, or the n-th address from the right of X-Forwarded-For behind n trusted proxies (OPS-05)."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def is_api_path(path: str) -> bool:
    # The interactive docs are a page rendered by the browser, not an API response.
    return path.startswith("/api/") and not path.startswith("/api/docs")


def _source_for(path: str) -> str:
    if path.startswith("/api/"):
        return "api"
    if path.startswith(f"/{settings.ADMIN_URL}"):
        return "admin"
    return "ui"


def _is_probe(path: str) -> bool:
    return path.rstrip("/") in PROBE_PATHS


class RequestContextMiddleware:
    """Outermost middleware: assigns the request id and trace, times the request and logs its completion."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        enabled = settings.ENABLE_REQUEST_ID
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if enabled and context.is_valid_request_id(incoming) else context.new_request_id()
        request.request_id = request_id
        parsed = context.parse_traceparent(request.META.get("HTTP_TRACEPARENT", ""))
        trace_id, flags = (parsed[0], parsed[2]) if parsed else (context.new_trace_id(), "00")
        ctx = context.RequestContext(
            request_id=request_id,
            source=_source_for(request.path),
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:255],
            trace_id=trace_id,
            span_id=context.new_span_id(),
            trace_flags=flags,
        )
        request.request_context = ctx
        token = context.set_context(ctx)
        try:
            response = self.get_response(request)
            duration_ms = (time.perf_counter() - started) * 1000
            if enabled:
                response["X-Request-ID"] = request_id
                response["X-Response-Time-Ms"] = f"{duration_ms:.2f}"
            if settings.ENABLE_REQUEST_LOGGING:
                self._log(request, response, duration_ms)
            return response
        finally:
            context.reset_context(token)

    @staticmethod
    def _user_id(request, probe: bool):
        user = getattr(request, "user", None)
        if user is None:
            return None
        # A probe must never reach the database (OPS-10), so its lazy session user is not loaded;
        # elsewhere loading it costs what the view usually paid already.
        if probe and getattr(user, "_wrapped", None) is empty:
            return None
        try:
            return user.pk if user.is_authenticated else None
        except Exception:  # the log line must not turn a served response into an error
            return None

    def _log(self, request, response, duration_ms: float) -> None:
        probe = _is_probe(request.path)
        level = logging.INFO if (not probe or settings.LOG_PROBES) else logging.DEBUG
        if not logger.isEnabledFor(level):
            return
        match = getattr(request, "resolver_match", None)
        ctx = context.current()
        logger.log(
            level,
            "request_completed",
            extra={
                "method": request.method,
                "path": request.path,
                "route": (match.view_name or match.route) if match else None,
                "status": response.status_code,
                "duration_ms": round(duration_ms, 2),
                "user_id": self._user_id(request, probe),
                "client_ip": ctx.ip_address,
                "trace_id": ctx.trace_id,
            },
        )


class SecurityHeadersMiddleware:
    """The OPS-08 headers on every response, including those that inner middleware short-circuits.

    It sits right inside RequestContextMiddleware so that redirects from SecurityMiddleware,
    static files from whitenoise and early answers of auth middleware carry the headers too.
    Django's SecurityMiddleware and XFrameOptionsMiddleware set the same values where they run
    (and `check --deploy` looks for them); `setdefault` keeps a view's deliberate choice.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("X-Content-Type-Options", "nosniff")
        if not getattr(response, "xframe_options_exempt", False):
            response.setdefault("X-Frame-Options", "DENY")
        response.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.setdefault("Permissions-Policy", "geolocation=(), microphone=(), camera=()")
        response.setdefault("X-XSS-Protection", "1; mode=block")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if "Cache-Control" not in response and _is_authenticated(request):
            # API-14: nothing a signed-in user or a token holder sees may sit in a shared cache.
            response["Cache-Control"] = "no-store"
        return response


def _is_authenticated(request) -> bool:
    if request.META.get("HTTP_AUTHORIZATION"):
        return True
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return False  # never load a session user just to decide a header (probes stay DB-free)
    return user.is_authenticated


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp, plus the two OPS-09 rules it has no setting for.

    API responses get a deny-all policy: JSON is never rendered as a document. Console pages always
    carry a nonce, even when the page rendered no inline block, so the policy has one shape
    everywhere and a template that forgets the nonce fails loudly in every browser.
    """

    API_POLICY = "default-src 'none'; frame-ancestors 'none'"

    def process_response(self, request, response):
        if is_api_path(request.path_info):
            header = (
                "Content-Security-Policy-Report-Only"
                if settings.SECURITY_CSP_REPORT_ONLY
                else "Content-Security-Policy"
            )
            response.setdefault(header, self.API_POLICY)
            return response
        nonce = getattr(request, "csp_nonce", None)
        if nonce is not None and not getattr(request, "_csp_nonce", None):
            str(nonce)  # evaluating the lazy nonce is what makes django-csp put it in the header
        return super().process_response(request, response)
