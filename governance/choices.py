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
