"""Error pages and bodies: JSON error body under /api/, friendly pages with the request id elsewhere."""

import logging
import sys

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from genxsop import context
from genxsop.api.errors import (
    DATABASE_RETRY_AFTER_SECONDS,
    DATABASE_UNAVAILABLE_MESSAGE,
    error_response,
    is_database_unavailable,
)

logger = logging.getLogger("genxsop.security")
logger_db = logging.getLogger("genxsop.request")

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


def _database_unavailable(request):
    """503 for a database outage met outside a DRF view (middleware, console views).

    The page is rendered without the request: its context processors would query the database.
    """
    logger_db.error("database_unavailable", extra={"path": request.path})
    # The outer middleware reads request.user for headers and the log line: a session user still
    # to be loaded would wait for the database a second time.
    request.user = AnonymousUser()
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    if _is_api(request):
        return error_response(
            status=503, code="SERVICE_UNAVAILABLE", message=DATABASE_UNAVAILABLE_MESSAGE, headers=headers
        )
    values = {"status": 503, "message": DATABASE_UNAVAILABLE_MESSAGE, "request_id": context.request_id(),
              "app_name": settings.APP_NAME, "app_version": settings.APP_VERSION}  # fmt: skip
    try:
        body = render_to_string("errors/error.html", values)
        content_type = "text/html; charset=utf-8"
    except Exception:
        body = f"{DATABASE_UNAVAILABLE_MESSAGE} Request id: {context.request_id()}"
        content_type = "text/plain; charset=utf-8"
    response = HttpResponse(body, status=503, content_type=content_type)
    response["Retry-After"] = headers["Retry-After"]
    return response


def server_error(request):
    # Django calls this from inside its `except` block, so the exception is still at hand.
    if is_database_unavailable(sys.exc_info()[1]):
        return _database_unavailable(request)
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
