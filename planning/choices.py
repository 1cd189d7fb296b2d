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
