"""OpenAPI documentation shared by every app's API: security schemes, the error body, common responses.

Importing this module registers the authentication extensions, so the URL modules that build the
API import it (drf-spectacular only knows extensions whose module has been loaded).
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes
from rest_framework import serializers


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "genxsop.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "gxs_<key>_<secret>",
            "description": "Integration API token (ACC-22); its scopes limit what it may call (ACC-25).",
        }


class LoginTokenScheme(OpenApiAuthenticationExtension):
    target_class = "genxsop.api.login_authentication.LoginTokenAuthentication"
    name = "loginToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "gxa_<key>_<secret>",
            "description": "Access token from POST /auth/login (ACC-16); the user's role decides what it may do.",
        }


class ConsoleSessionScheme(OpenApiAuthenticationExtension):
    target_class = "genxsop.api.authentication.ConsoleSessionAuthentication"
    name = "consoleSession"

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "Console session, same-origin only; unsafe methods also need the X-CSRFToken header.",
        }


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable error code, e.g. VALIDATION_ERROR (API-09).")
    message = serializers.CharField()
    request_id = serializers.CharField(help_text="Equals the X-Request-ID response header.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field messages; present on validation errors.",
    )
    context = serializers.DictField(required=False, help_text="Extra data defined by the error code.")


class ErrorEnvelopeSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField(help_text="`fields` and any context data of the error.")
    request_id = serializers.CharField()


class ErrorResponseSerializer(serializers.Serializer):
    """The one error body of every API error (API-09)."""

    error = ErrorEnvelopeSerializer()
    detail = ErrorDetailSerializer()


_ERROR_DESCRIPTIONS = {
    400: "VALIDATION_ERROR or INVALID_PARAMETER: the body or a query parameter is not valid.",
    401: "AUTHENTICATION_REQUIRED (no credentials), AUTHENTICATION_FAILED or TOKEN_EXPIRED.",
    403: "PERMISSION_DENIED, TOKEN_SCOPE_INSUFFICIENT or CSRF_FAILED.",
    404: "NOT_FOUND: unknown id, or outside the caller's object scope.",
    409: "DUPLICATE_ENTITY, IN_USE, INVALID_STATE_TRANSITION or BUSINESS_RULE_VIOLATION.",
    413: "PAYLOAD_TOO_LARGE: the body exceeds 1 MiB.",
    415: "UNSUPPORTED_MEDIA_TYPE: the body is not JSON.",
    429: "RATE_LIMITED; see the Retry-After header.",
}

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

READ_ERRORS = (401, 403, 429)
WRITE_ERRORS = (400, 401, 403, 413, 415, 429)


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """`responses=` entries documenting the error body for each given status."""
    return {status: OpenApiResponse(ErrorResponseSerializer, description=_ERROR_DESCRIPTIONS[status])
            for status in statuses}  # fmt: skip


# The lists answered as plain arrays (genxsop/row_limits.py): their 400 also covers a match too large to send.
ROW_LIMITED_LIST_ERRORS = {
    400: OpenApiResponse(
        ErrorResponseSerializer,
        description="INVALID_PARAMETER: a query parameter is not valid, or the filters match more than "
        "API_LIST_MAX_ROWS rows (10,000 unless configured; `context.limit` says how many): narrow them.",
    ),
    **error_responses(*READ_ERRORS),
}


ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Integer id of the row.")
IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, required=False,
    description='Optimistic concurrency (WF-05): the ETag of the detail response, `W/"<version>"`.',
)  # fmt: skip


def drop_trailing_slash_aliases(endpoints):
    """Preprocessing hook: one operation per path, whichever spelling of the trailing slash was routed.

    Every path answers with and without a trailing slash (API-02); where that takes two URL
    patterns (the `/api/v1` root), the schema would otherwise list the operation twice.
    """
    seen = set()
    kept = []
    for path, path_regex, method, callback in endpoints:
        key = (path.rstrip("/") or "/", method)
        if key in seen:
            continue
        seen.add(key)
        kept.append((path, path_regex, method, callback))
    return kept


def document_if_match_errors(result, generator, request, public):
    """Postprocessing hook: an operation that reads `If-Match` also answers 400 for a malformed one.

    The header is parsed before the body (WF-05), so even a DELETE, which documents no body
    errors of its own, is 400 INVALID_PARAMETER when the header is not an ETag.
    """
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            headers = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "header"}
            if "If-Match" in headers and "400" not in operation["responses"]:
                operation["responses"]["400"] = {
                    "description": 'INVALID_PARAMETER: If-Match is not an ETag such as W/"3".',
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
                }
    return result
