"""Error pages and bodies: JSON error body under /api/, friendly pages with the request id elsewhere."""

import logging

from django.shortcuts import render

from genxsop import context
from genxsop.api.errors import error_response

logger = logging.getLogger("genxsop.security")

MESSAGES = {
    400: "The request could not be understood.",
    403: "Access denied. Insufficient permissions.",
    404: "The page you asked for does not exist.",
    500: "Something went wrong on our side. The error has been logged.",
}


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _page(request, status: int, message: str | None = None):
    return render(
        request,
        "errors/error.html",
        {"status": status, "message": message or MESSAGES[status], "request_id": context.request_id()},
        status=status,
    )


def bad_request(request, exception=None):
    if _is_api(request):
        return error_response(status=400, message=MESSAGES[400])
    return _page(request, 400)


def permission_denied(request, exception=None):
    user = getattr(request, "user", None)
    logger.warning(
        "authorization_denied",
        extra={"path": request.path, "user_id": user.pk if user is not None and user.is_authenticated else None},
    )
    if _is_api(request):
        return error_response(
            status=403, code="PERMISSION_DENIED", message="You do not have permission to perform this action."
        )
    return _page(request, 403)


def page_not_found(request, exception=None):
    if _is_api(request):
        return error_response(status=404, code="NOT_FOUND", message="Not found.")
    return _page(request, 404)


def server_error(request):
    if _is_api(request):
        return error_response(status=500, code="INTERNAL_ERROR", message="An unexpected error occurred.")
    try:
        return _page(request, 500)
    except Exception:
        from django.http import HttpResponseServerError

        return HttpResponseServerError(f"Internal error. Request id: {context.request_id()}", content_type="text/plain")


def csrf_failure(request, reason=""):
    user = getattr(request, "user", None)
    logger.warning(
        "csrf_failed",
        extra={
            "path": request.path,
            "reason": reason,
            "user_id": user.pk if user is not None and user.is_authenticated else None,
        },
    )
    if _is_api(request):
        return error_response(status=403, code="CSRF_FAILED", message="CSRF verification failed.")
    return _page(request, 403, "Your session form expired or was tampered with. Reload the page and try again.")


def api_not_found(request, *args, **kwargs):
    return error_response(status=404, code="NOT_FOUND", message=f"No API endpoint at {request.path}.")
