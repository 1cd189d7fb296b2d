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


class DemandPlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    LOCKED = "locked", "Locked"


class PlanSource(models.TextChoices):
    MANUAL = "manual", "Manual"
    IMPORT = "import", "Import"
    ERP = "erp", "ERP"
    CONSENSUS = "consensus", "Consensus"
    PROMOTION = "promotion", "Promotion"
    ROLLBACK = "rollback", "Rollback"
    DEMO = "demo", "Demo"


# Demand plan lifecycle (WF-10): action -> {from_status: to_status}; `delete` removes the row (None).
# lock/unlock/restore/release/cycle_reopen belong to publishing and S&OP cycles and arrive with them.
DEMAND_PLAN_TRANSITIONS: dict[str, dict[str, str | None]] = {
    "edit": {DemandPlanStatus.DRAFT: DemandPlanStatus.DRAFT, DemandPlanStatus.REJECTED: DemandPlanStatus.DRAFT},
    "submit": {DemandPlanStatus.DRAFT: DemandPlanStatus.SUBMITTED},
    "withdraw": {DemandPlanStatus.SUBMITTED: DemandPlanStatus.DRAFT},
    "approve": {DemandPlanStatus.SUBMITTED: DemandPlanStatus.APPROVED},
    "reject": {DemandPlanStatus.SUBMITTED: DemandPlanStatus.REJECTED},
    "reopen": {DemandPlanStatus.APPROVED: DemandPlanStatus.DRAFT},
    "delete": {DemandPlanStatus.DRAFT: None, DemandPlanStatus.REJECTED: None},
}
