"""DRF exception handler: every API error leaves as the project's error body (API-09)."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from genxsop.api.errors import (
    DATABASE_RETRY_AFTER_SECONDS,
    DATABASE_UNAVAILABLE_MESSAGE,
    error_body,
    is_database_unavailable,
)
from genxsop.errors import DomainError

logger = logging.getLogger("genxsop.api")


def _flatten(detail) -> dict:
    """DRF's nested ValidationError detail as `{field: [messages]}`."""
    if isinstance(detail, dict):
        out = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub, msgs in _flatten(value).items():
                    out[f"{key}.{sub}"] = msgs
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for idx, item in enumerate(value):
                    for sub, msgs in _flatten(item).items():
                        out[f"{key}[{idx}].{sub}"] = msgs
            else:
                out[key] = [str(v) for v in (value if isinstance(value, list) else [value])]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(v) for v in detail]}
    return {"non_field_errors": [str(detail)]}


def _respond(status: int, code: str, message: str, *, fields=None, context_data=None, headers=None) -> Response:
    response = Response(
        error_body(status=status, code=code, message=message, fields=fields, context_data=context_data), status=status
    )
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def api_exception_handler(exc, ctx):
    request = ctx.get("request")
    if isinstance(exc, DomainError):
        if exc.status_code == 403:
            _log_denial(request, exc.code)
        # `headers`: e.g. Retry-After of a 429 TOO_MANY_ATTEMPTS, WWW-Authenticate of a login 401.
        return _respond(
            exc.status_code, exc.code, exc.message, fields=exc.fields, context_data=exc.context,
            headers=getattr(exc, "headers", None),
        )  # fmt: skip
    if isinstance(exc, Http404):
        return _respond(404, "NOT_FOUND", "Not found.")
    # Django raises this while DRF reads request.body past DATA_UPLOAD_MAX_MEMORY_SIZE; it is not
    # an APIException, so without this branch an oversized body would end as a 500 (API-03).
    if isinstance(exc, RequestDataTooBig):
        return _respond(413, "PAYLOAD_TOO_LARGE", "The request body is larger than the allowed size.")
    if isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if is_database_unavailable(exc):
        # An outage, not a bug: 503 tells clients and load balancers to retry (API-09).
        logger.error("database_unavailable", extra={"path": getattr(request, "path", ""), "error": type(exc).__name__})
        return _respond(
            503, "SERVICE_UNAVAILABLE", DATABASE_UNAVAILABLE_MESSAGE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )  # fmt: skip
    if isinstance(exc, IntegrityError):
        text = str(exc).lower()
        if "unique" in text or "duplicate" in text:
            return _respond(409, "DUPLICATE_ENTITY", "An entity with the same key already exists.")
        return _respond(409, "BUSINESS_RULE_VIOLATION", "The change violates a data rule of the database.")
    if isinstance(exc, drf.ValidationError):
        return _respond(400, "VALIDATION_ERROR", "The submitted data is not valid.", fields=_flatten(exc.detail))
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        headers = {}
        view = ctx.get("view")
        if view is not None and request is not None:
            challenge = view.get_authenticate_header(request)
            if challenge:
                headers["WWW-Authenticate"] = challenge
        status = 401
        if isinstance(exc, drf.NotAuthenticated):
            code, message = "AUTHENTICATION_REQUIRED", "Authentication credentials were not provided."
        else:
            code = getattr(exc, "error_code", None) or "AUTHENTICATION_FAILED"
            message = str(exc.detail)
        return _respond(status, code, message, headers=headers)
    if isinstance(exc, drf.PermissionDenied):
        code = getattr(exc, "error_code", None) or ("CSRF_FAILED" if "CSRF" in str(exc.detail) else "PERMISSION_DENIED")
        _log_denial(request, code)
        message = "CSRF verification failed." if code == "CSRF_FAILED" else str(exc.detail)
        return _respond(403, code, message)
    if isinstance(exc, drf.Throttled):
        wait = int(exc.wait or 1)
        logger.warning("rate_limited", extra={"path": getattr(request, "path", ""), "retry_after": wait})
        return _respond(
            429, "RATE_LIMITED", "Too many requests; retry later.", context_data={"retry_after": wait},
            headers={"Retry-After": str(wait)},
        )  # fmt: skip
    if isinstance(exc, drf.APIException):
        status = exc.status_code
        codes = {
            drf.MethodNotAllowed: "METHOD_NOT_ALLOWED",
            drf.UnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE",
            drf.NotFound: "NOT_FOUND",
            drf.ParseError: "VALIDATION_ERROR",
            drf.NotAcceptable: "NOT_ACCEPTABLE",
        }
        code = next((c for cls, c in codes.items() if isinstance(exc, cls)), None) or getattr(exc, "error_code", None)
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return _respond(status, code or "ERROR", detail)
    logger.exception("unhandled_api_error")
    return _respond(500, "INTERNAL_ERROR", "An unexpected error occurred.")


def _log_denial(request, code: str) -> None:
    user = getattr(request, "user", None)
    logger.warning(
        "authorization_denied",
        extra={
            "code": code,
            "path": getattr(request, "path", ""),
            "user_id": user.pk if user is not None and user.is_authenticated else None,
        },
    )
