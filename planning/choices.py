from django.db import models


class ProductStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DISCONTINUED = "discontinued", "Discontinued"
    NEW = "new", "New"


class AbcClass(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class LocationType(models.TextChoices):
    PLANT = "plant", "Plant"
    DISTRIBUTION_CENTER = "distribution_center", "Distribution center"
    WAREHOUSE = "warehouse", "Warehouse"
    STORE = "store", "Store"


# Product lifecycle (WF-01): edits never set status freely. `discontinue` is the API's DELETE.
PRODUCT_TRANSITIONS: dict[str, dict[str, str]] = {
    # action: {from_status: to_status}
    "discontinue": {ProductStatus.ACTIVE: ProductStatus.DISCONTINUED, ProductStatus.NEW: ProductStatus.DISCONTINUED},
    "activate": {ProductStatus.NEW: ProductStatus.ACTIVE, ProductStatus.DISCONTINUED: ProductStatus.ACTIVE},
}


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    LOCKED = "locked", "Locked"


# Demand and supply plans share one lifecycle (WF-10, WF-11).
DemandPlanStatus = SupplyPlanStatus = PlanStatus


class PlanSource(models.TextChoices):
    MANUAL = "manual", "Manual"
    IMPORT = "import", "Import"
    ERP = "erp", "ERP"
    CONSENSUS = "consensus", "Consensus"
    PROMOTION = "promotion", "Promotion"
    ROLLBACK = "rollback", "Rollback"
    DEMO = "demo", "Demo"


# Plan lifecycle (WF-10, WF-11): action -> {from_status: to_status}; `delete` removes the row (None).
# lock, restore, release and cycle_reopen are system actions: only the publishing and S&OP cycle services
# call them (GOV-51, GOV-63, GOV-66); unlock is an approver's action with a justification.
PLAN_TRANSITIONS: dict[str, dict[str, str | None]] = {
    "edit": {PlanStatus.DRAFT: PlanStatus.DRAFT, PlanStatus.REJECTED: PlanStatus.DRAFT},
    "submit": {PlanStatus.DRAFT: PlanStatus.SUBMITTED},
    "withdraw": {PlanStatus.SUBMITTED: PlanStatus.DRAFT},
    "approve": {PlanStatus.SUBMITTED: PlanStatus.APPROVED},
    "reject": {PlanStatus.SUBMITTED: PlanStatus.REJECTED},
    "reopen": {PlanStatus.APPROVED: PlanStatus.DRAFT},
    "delete": {PlanStatus.DRAFT: None, PlanStatus.REJECTED: None},
    "lock": {PlanStatus.APPROVED: PlanStatus.LOCKED},
    "unlock": {PlanStatus.LOCKED: PlanStatus.DRAFT},
    "restore": {
        PlanStatus.LOCKED: PlanStatus.LOCKED,
        PlanStatus.APPROVED: PlanStatus.LOCKED,
        PlanStatus.DRAFT: PlanStatus.LOCKED,
    },
    "release": {PlanStatus.LOCKED: PlanStatus.APPROVED},
    "cycle_reopen": {PlanStatus.LOCKED: PlanStatus.DRAFT},
}
PLAN_SYSTEM_ACTIONS = ("lock", "restore", "release", "cycle_reopen")
DEMAND_PLAN_TRANSITIONS = SUPPLY_PLAN_TRANSITIONS = PLAN_TRANSITIONS


class GapStatus(models.TextChoices):
    """FRM-02, from the coverage gap %: < -20 critical, < 0 shortage, > 20 excess, else balanced."""

    CRITICAL = "critical", "Critical"
    SHORTAGE = "shortage", "Shortage"
    BALANCED = "balanced", "Balanced"
    EXCESS = "excess", "Excess"


class InventoryStatus(models.TextChoices):
    """FRM-03; derived, never written directly."""

    NORMAL = "normal", "Normal"
    LOW = "low", "Low"
    CRITICAL = "critical", "Critical"
    EXCESS = "excess", "Excess"


class PolicySource(models.TextChoices):
    MANUAL = "manual", "Manual"
    OPTIMIZATION = "optimization", "Optimization"
    RECOMMENDATION = "recommendation", "Recommendation"
    OVERRIDE = "override", "Override"
    ERP = "erp", "ERP"
    DEMO = "demo", "Demo"


class SnapshotSource(models.TextChoices):
    MONTH_CLOSE = "month_close", "Month close"
    ERP = "erp", "ERP"
    IMPORT = "import", "Import"
    DEMO = "demo", "Demo"


class BatchChannel(models.TextChoices):
    API = "api", "API"
    FILE = "file", "File"


class BatchOperation(models.TextChoices):
    PRODUCTS_SYNC = "products_sync", "Products sync"
    INVENTORY_SYNC = "inventory_sync", "Inventory sync"
    DEMAND_ACTUALS_SYNC = "demand_actuals_sync", "Demand actuals sync"
    SUPPLY_ACTUALS_SYNC = "supply_actuals_sync", "Supply actuals sync"
    IMPORT_PRODUCTS = "import_products", "Products import"
    IMPORT_DEMAND_PLANS = "import_demand_plans", "Demand plans import"
    IMPORT_SUPPLY_PLANS = "import_supply_plans", "Supply plans import"
    IMPORT_INVENTORY = "import_inventory", "Inventory import"
    IMPORT_DEMAND_ACTUALS = "import_demand_actuals", "Demand actuals import"


class BatchStatus(models.TextChoices):
    """WF-80."""

    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    PARTIAL = "partial", "Partial"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"


class OutboundKind(models.TextChoices):
    PUBLICATION = "publication", "Publication"
    ROLLBACK = "rollback", "Rollback"


class OutboundStatus(models.TextChoices):
    """WF-81."""

    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    FAILED = "failed", "Failed"


class ScenarioType(models.TextChoices):
    WHAT_IF = "what_if", "What-if"
    BASELINE = "baseline", "Baseline"
    STRESS_TEST = "stress_test", "Stress test"
    BEST_CASE = "best_case", "Best case"
    WORST_CASE = "worst_case", "Worst case"


SCENARIO_TYPE_ALIASES = {"optimistic": ScenarioType.BEST_CASE, "pessimistic": ScenarioType.WORST_CASE,
                         "base": ScenarioType.BASELINE}  # fmt: skip


class ScenarioStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    COMPLETED = "completed", "Completed"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


_S = ScenarioStatus
# WF-30: action -> {from_status: to_status}. designate/undesignate keep `approved` and move the flag.
SCENARIO_TRANSITIONS: dict[str, dict[str, str | None]] = {
    "edit": {_S.DRAFT: _S.DRAFT, _S.COMPLETED: _S.DRAFT, _S.REJECTED: _S.DRAFT},
    "run": {_S.DRAFT: _S.COMPLETED, _S.COMPLETED: _S.COMPLETED},
    "submit": {_S.COMPLETED: _S.SUBMITTED},
    "approve": {_S.SUBMITTED: _S.APPROVED},
    "reject": {_S.SUBMITTED: _S.REJECTED},
    "reopen": {_S.REJECTED: _S.DRAFT},
    "designate_operating_plan": {_S.APPROVED: _S.APPROVED},
    "undesignate": {_S.APPROVED: _S.APPROVED},
    "delete": {_S.DRAFT: None, _S.REJECTED: None},
}


class ExceptionType(models.TextChoices):
    STOCKOUT_RISK = "stockout_risk", "Stockout risk"
    EXCESS_RISK = "excess_risk", "Excess risk"
    DATA_QUALITY_RISK = "data_quality_risk", "Data-quality risk"


class ExceptionSeverity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class ExceptionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


EXCEPTION_ACTIVE_STATUSES = (ExceptionStatus.OPEN, ExceptionStatus.IN_PROGRESS)

_EX = ExceptionStatus
# WF-61: open → in_progress; open, in_progress → resolved | dismissed; resolved, dismissed → open.
# Keyed by the target status because the API takes the status as a transition shorthand; the
# value is the action name that `allowed_actions` reports.
EXCEPTION_TRANSITIONS = {
    _EX.OPEN: {_EX.IN_PROGRESS: "start", _EX.RESOLVED: "resolve", _EX.DISMISSED: "dismiss"},
    _EX.IN_PROGRESS: {_EX.RESOLVED: "resolve", _EX.DISMISSED: "dismiss"},
    _EX.RESOLVED: {_EX.OPEN: "reopen"},
    _EX.DISMISSED: {_EX.OPEN: "reopen"},
}


class PolicyRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class PolicyRunMethod(models.TextChoices):
    COVERAGE = "coverage", "Coverage"
    STATISTICAL = "statistical", "Statistical"


class RecommendationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    APPLIED = "applied", "Applied"


class AppliedVia(models.TextChoices):
    MANUAL = "manual", "Manual"
    AUTO = "auto", "Auto"


_R = RecommendationStatus
# WF-60: action -> {from_status: to_status}. The high-impact guards (approve by someone other than the
# generator; no apply of a pending high-impact row) are checked by the service on top of this map.
RECOMMENDATION_TRANSITIONS: dict[str, dict[str, str]] = {
    "regenerate": {_R.PENDING: _R.PENDING},
    "approve": {_R.PENDING: _R.ACCEPTED},
    "accept": {_R.PENDING: _R.ACCEPTED},
    "apply": {_R.PENDING: _R.APPLIED, _R.ACCEPTED: _R.APPLIED},
    "reject": {_R.PENDING: _R.REJECTED, _R.ACCEPTED: _R.REJECTED},
    "auto_apply": {_R.PENDING: _R.APPLIED, _R.ACCEPTED: _R.APPLIED},
}


class KpiCategory(models.TextChoices):
    DEMAND = "demand", "Demand"
    SUPPLY = "supply", "Supply"
    INVENTORY = "inventory", "Inventory"
    SERVICE = "service", "Service"
    FINANCIAL = "financial", "Financial"


class KpiDirection(models.TextChoices):
    HIGHER_IS_BETTER = "higher_is_better", "Higher is better"
    LOWER_IS_BETTER = "lower_is_better", "Lower is better"
    TARGET_RANGE = "target_range", "Target range"
    CLOSEST_TO_ZERO = "closest_to_zero", "Closest to zero"


class KpiTrend(models.TextChoices):
    IMPROVING = "improving", "Improving"
    DECLINING = "declining", "Declining"
    STABLE = "stable", "Stable"


class KpiStatus(models.TextChoices):
    ON_TARGET = "on_target", "On target"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"
    NO_TARGET = "no_target", "No target"


class KpiSource(models.TextChoices):
    COMPUTED = "computed", "Computed"
    MANUAL = "manual", "Manual"
    IMPORT = "import", "Import"


class ScheduleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RELEASED = "released", "Released"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


_PS = ScheduleStatus
# WF-70, keyed by the target status because the API takes the status itself (API-PS-03).
SCHEDULE_TRANSITIONS: dict[str, dict[str, str]] = {
    _PS.DRAFT: {_PS.RELEASED: "release"},
    _PS.RELEASED: {_PS.DRAFT: "unrelease", _PS.IN_PROGRESS: "start"},
    _PS.IN_PROGRESS: {_PS.COMPLETED: "complete"},
    _PS.COMPLETED: {},
}
# Regeneration replaces every slot; refused once work has started on any of them (409 IN_USE).
SCHEDULE_STARTED_STATUSES = (_PS.IN_PROGRESS, _PS.COMPLETED)
# Resequencing moves only slots that have not started.
SCHEDULE_MOVABLE_STATUSES = (_PS.DRAFT, _PS.RELEASED)
