from django.db import models


class Role(models.TextChoices):
    """The eight roles of ACC-01; each maps to one Django group of the same name."""

    ADMIN = "admin", "Administrator"
    EXECUTIVE = "executive", "Executive"
    DEMAND_PLANNER = "demand_planner", "Demand Planner"
    SUPPLY_PLANNER = "supply_planner", "Supply Planner"
    INVENTORY_MANAGER = "inventory_manager", "Inventory Manager"
    FINANCE_ANALYST = "finance_analyst", "Finance Analyst"
    SOP_COORDINATOR = "sop_coordinator", "S&OP Coordinator"
    VIEWER = "viewer", "Viewer"


class AuthSource(models.TextChoices):
    LOCAL = "local", "Local"
    SSO = "sso", "SSO"


class ActorType(models.TextChoices):
    USER = "user", "User"
    API_TOKEN = "api_token", "API token"
    SERVICE_ACCOUNT = "service_account", "Service account"
    SYSTEM = "system", "System"
    ANONYMOUS = "anonymous", "Anonymous"


class Source(models.TextChoices):
    API = "api", "API"
    UI = "ui", "Console"
    ADMIN = "admin", "Django admin"
    JOB = "job", "Background job"
    CLI = "cli", "Command line"


class CommentKind(models.TextChoices):
    """GOV-12. Only `comment` is editable by its author; the others record a decision and never change."""

    COMMENT = "comment", "Comment"
    APPROVAL = "approval", "Approval"
    REJECTION = "rejection", "Rejection"
    RETURN = "return", "Return"
    OVERRIDE = "override", "Override"
    SYSTEM = "system", "System"


class CycleStatus(models.TextChoices):
    """GOV-08: one non-cancelled cycle per period."""

    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class StepStatus(models.TextChoices):
    """GOV-09, WF-41."""

    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    SKIPPED = "skipped", "Skipped"


# GOV-09: the five fixed steps of the monthly S&OP cycle.
CYCLE_STEP_NAMES = {1: "Data Gathering", 2: "Demand Review", 3: "Supply Review", 4: "Pre-S&OP Meeting",
                    5: "Executive S&OP"}  # fmt: skip


_C, _ST = CycleStatus, StepStatus
# WF-40: action -> {from_status: to_status} of the cycle; the step number guards live in the service.
CYCLE_TRANSITIONS: dict[str, dict[str, str]] = {
    "edit": {_C.ACTIVE: _C.ACTIVE},
    "advance": {_C.ACTIVE: _C.ACTIVE},
    "skip_step": {_C.ACTIVE: _C.ACTIVE},
    "complete": {_C.ACTIVE: _C.COMPLETED},
    "cancel": {_C.ACTIVE: _C.CANCELLED},
}
# WF-41: a step starts (COORD, its owner, or when the previous step ends), completes only through advance or
# complete, and is skipped only through skip_step.
CYCLE_STEP_TRANSITIONS: dict[str, dict[str, str]] = {
    "start": {_ST.PENDING: _ST.IN_PROGRESS},
    "complete": {_ST.IN_PROGRESS: _ST.COMPLETED},
    "skip": {_ST.PENDING: _ST.SKIPPED, _ST.IN_PROGRESS: _ST.SKIPPED},
}


class DecisionCategory(models.TextChoices):
    DEMAND = "demand", "Demand"
    SUPPLY = "supply", "Supply"
    INVENTORY = "inventory", "Inventory"
    FINANCIAL = "financial", "Financial"
    SCENARIO = "scenario", "Scenario"
    POLICY = "policy", "Policy"
    PUBLISH = "publish", "Publish"
    OTHER = "other", "Other"


class DecisionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Superseded"


# WF-52: a decision is superseded when a newer one references it.
DECISION_TRANSITIONS = {DecisionStatus.ACTIVE: {DecisionStatus.SUPERSEDED}, DecisionStatus.SUPERSEDED: set()}


class ActionItemPriority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class ActionItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


_AI = ActionItemStatus
# WF-51: open → in_progress → done; open, in_progress → cancelled; done, cancelled → open (reopen).
ACTION_ITEM_TRANSITIONS = {
    _AI.OPEN: {_AI.IN_PROGRESS, _AI.CANCELLED},
    _AI.IN_PROGRESS: {_AI.DONE, _AI.CANCELLED},
    _AI.DONE: {_AI.OPEN},
    _AI.CANCELLED: {_AI.OPEN},
}
ACTION_ITEM_OPEN_STATUSES = (_AI.OPEN, _AI.IN_PROGRESS)


class NotificationKind(models.TextChoices):
    """GOV-13."""

    MENTION = "mention", "Mention"
    ASSIGNMENT = "assignment", "Assignment"
    APPROVAL_REQUEST = "approval_request", "Approval request"
    APPROVAL_DECISION = "approval_decision", "Approval decision"
    PUBLICATION = "publication", "Publication"
    ROLLBACK = "rollback", "Rollback"
    JOB_COMPLETED = "job_completed", "Job completed"
    JOB_FAILED = "job_failed", "Job failed"
    EXCEPTION_ASSIGNED = "exception_assigned", "Exception assigned"
    GATE_FAILED = "gate_failed", "Gate failed"
    ACTION_ITEM_DUE = "action_item_due", "Action item due"


class Lane(models.TextChoices):
    """GOV-60: the weekly lane publishes the near horizon, the monthly lane the long one."""

    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class EvaluationOutcome(models.TextChoices):
    GO = "go", "Go"
    NO_GO = "no_go", "No-Go"


class PublicationOutcome(models.TextChoices):
    GO = "go", "Go"
    NO_GO_OVERRIDDEN = "no_go_overridden", "No-Go overridden"


class PublicationStatus(models.TextChoices):
    PUBLISHED = "published", "Published"
    SUPERSEDED = "superseded", "Superseded"
    ROLLED_BACK = "rolled_back", "Rolled back"


_P = PublicationStatus
# WF-50: publish creates `published`; a newer publication supersedes; rollback rolls back the current one
# and reinstates the one it superseded.
PUBLICATION_TRANSITIONS = {
    "supersede": {_P.PUBLISHED: _P.SUPERSEDED},
    "rollback": {_P.PUBLISHED: _P.ROLLED_BACK},
    "reinstate": {_P.SUPERSEDED: _P.PUBLISHED},
}
