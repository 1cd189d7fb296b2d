"""The one error body of the API (API-09), built in one place.

Body: `{"error": {code, message, details, request_id}, "detail": {code, message, request_id,
fields?, context?}}`. `error` is the documented envelope; `detail` carries the same facts in the
shape v1 clients already parse (see docs/adr/0007-one-error-body.md).
"""

from django.http import JsonResponse

from genxsop import context

STATUS_CODES = {
    400: "VALIDATION_ERROR",
    401: "AUTHENTICATION_REQUIRED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "BUSINESS_RULE_VIOLATION",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "INSUFFICIENT_DATA",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


DATABASE_UNAVAILABLE_MESSAGE = "The service cannot reach its database right now; retry shortly."
DATABASE_RETRY_AFTER_SECONDS = 5


def is_database_unavailable(exc: BaseException | None) -> bool:
    """A lost or refused database connection (not a bad statement): the request may succeed on retry.

    Django wraps the driver's errors, so the class says it: OperationalError covers refused,
    dropped and timed-out connections, InterfaceError a connection already closed.
    """
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


def error_body(*, status: int, code: str | None = None, message: str, fields: dict | None = None,
               context_data: dict | None = None) -> dict:  # fmt: skip
    code = code or STATUS_CODES.get(status, "ERROR")
    request_id = context.request_id()
    detail = {"code": code, "message": message, "request_id": request_id}
    details = {}
    if fields:
        detail["fields"] = fields
        details["fields"] = fields
    if context_data:
        detail["context"] = context_data
        details.update(context_data)
    return {
        "error": {"code": code, "message": message, "details": details, "request_id": request_id},
        "detail": detail,
    }


def error_response(*, status: int, code: str | None = None, message: str, fields: dict | None = None,
                   context_data: dict | None = None, headers: dict | None = None) -> JsonResponse:  # fmt: skip
    response = JsonResponse(
        error_body(status=status, code=code, message=message, fields=fields, context_data=context_data), status=status
    )
    for key, value in (headers or {}).items():
        response[key] = value
    return response
