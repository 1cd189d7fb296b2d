"""Domain errors raised by services and selectors.

Each carries the HTTP status and the error code of the API contract (API-09), so the API
exception handler and the console views translate them without knowing the business rule.
"""


class DomainError(Exception):
    status_code = 400
    code = "VALIDATION_ERROR"
    default_message = "The request is not valid."

    def __init__(self, message: str | None = None, *, fields: dict | None = None, context: dict | None = None,
                 code: str | None = None):  # fmt: skip
        self.message = message or self.default_message
        self.fields = fields or None
        self.context = context or None
        if code:
            self.code = code
        super().__init__(self.message)


class ValidationFailed(DomainError):
    status_code = 400
    code = "VALIDATION_ERROR"
    default_message = "The submitted data is not valid."


class PermissionDenied(DomainError):
    status_code = 403
    code = "PERMISSION_DENIED"
    default_message = "You do not have permission to perform this action."


class NotFound(DomainError):
    status_code = 404
    code = "NOT_FOUND"
    default_message = "Not found."


class Conflict(DomainError):
    status_code = 409
    code = "BUSINESS_RULE_VIOLATION"
    default_message = "The request conflicts with the current state."


class DuplicateEntity(Conflict):
    code = "DUPLICATE_ENTITY"
    default_message = "An entity with the same key already exists."


class InUse(Conflict):
    code = "IN_USE"
    default_message = "The entity is still referenced and cannot be deleted."


class StaleVersion(Conflict):
    code = "STALE_VERSION"
    default_message = "The entity was changed by someone else; reload and try again."


class InvalidStateTransition(Conflict):
    code = "INVALID_STATE_TRANSITION"
    default_message = "This action is not allowed in the current state."


class EntityLocked(Conflict):
    code = "ENTITY_LOCKED"
    default_message = "The entity is locked and cannot be changed."


class GranularityConflict(Conflict):
    code = "GRANULARITY_CONFLICT"
    default_message = "A product-period is planned either as one total row or as detail rows, never both."


class SelfApprovalForbidden(PermissionDenied):
    code = "SELF_APPROVAL_FORBIDDEN"
    default_message = "The user who submitted a plan version cannot approve it."


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This idempotency key was already used with a different request."


class IdempotencyInProgress(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"
    default_message = "The first request with this idempotency key is still being processed."


class FreezeWindowViolation(Conflict):
    code = "FREEZE_WINDOW_VIOLATION"
    default_message = "The period lies in the freeze window of the publication that locked it."


class GateFailed(Conflict):
    """WF-42: an S&OP step gate refused to advance; `context.checks` says what is missing."""

    code = "GATE_FAILED"
    default_message = "The gate of the current step does not pass."


class PublishGateFailed(Conflict):
    """GOV-63: a No-Go evaluation (or an override of a non-overridable gate); `context` is the evaluation."""

    code = "PUBLISH_GATE_FAILED"
    default_message = "The publish readiness evaluation is No-Go."


class StaleEvaluation(Conflict):
    """GOV-63: the plans changed between the readiness evaluation the caller saw and the publish."""

    code = "STALE_EVALUATION"
    default_message = "The plans changed since the readiness evaluation; evaluate again."
