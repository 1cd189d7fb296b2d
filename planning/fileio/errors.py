"""Refusals of a whole uploaded file; they leave through the API's one error body (API-09)."""

from genxsop.errors import DomainError


class FileTooLarge(DomainError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = "The file is larger than the allowed size."


class UnsupportedFile(DomainError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "The file is not a readable CSV or XLSX file."
