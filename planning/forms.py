"""Console forms of the catalog: they check the shape of the input; the services decide the rest."""

from django import forms

from genxsop.errors import DomainError
from planning.choices import LocationType, ProductStatus
from planning.models import DEFAULT_LOCATION_CODE, MAX_CATEGORY_LEVEL, Category

INDENT = "\u2014 "


def category_options(categories) -> list[tuple[int, str]]:
    """(id, label) in tree order, children indented under their parent, for selects."""
    categories = list(categories)
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    known = {c.pk for c in categories}
    out: list[tuple[int, str]] = []

    def walk(parent_id, depth):
        for category in children.get(parent_id, []):
            out.append((category.pk, INDENT * depth + category.name))
            walk(category.pk, depth + 1)

    walk(None, 0)
    # A node whose parent is outside the caller's scope still has to be offered.
    for category in categories:
        if category.parent_id is not None and category.parent_id not in known:
            out.append((category.pk, category.name))
            walk(category.pk, 1)
    return out


class ConsoleForm(forms.Form):
    """Base of console forms: plain labels, and service errors mapped onto the inputs."""

    # Names the services use for a field (API spelling) -> name of the form input.
    field_aliases: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_domain_error(self, exc: DomainError) -> None:
        """Show a service's refusal on the form: field messages on their inputs, the rest on top."""
        placed = False
        for name, messages in (exc.fields or {}).items():
            target = self.field_aliases.get(name, name)
            if target not in self.fields or target in self.errors:
                target = None
            for message in messages if isinstance(messages, list | tuple) else [messages]:
                self.add_error(target, str(message))
                placed = True
        if not placed:
            self.add_error(None, exc.message)


class ProductForm(ConsoleForm):
    field_aliases = {"category_id": "category"}

    sku = forms.CharField(label="SKU", max_length=50)
    name = forms.CharField(max_length=255)
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False, empty_label="No category")
    product_family = forms.CharField(label="Family", max_length=100, required=False)
    unit_of_measure = forms.CharField(label="Unit of measure", max_length=20, initial="units")
    unit_cost = forms.DecimalField(label="Unit cost", max_digits=12, decimal_places=2, min_value=0, required=False)
    selling_price = forms.DecimalField(
        label="Selling price", max_digits=12, decimal_places=2, min_value=0, required=False
    )
    lead_time_days = forms.IntegerField(label="Lead time (days)", min_value=0, initial=0)
    min_order_qty = forms.IntegerField(label="Min order qty", min_value=1, initial=1)
    status = forms.ChoiceField(
        choices=[(ProductStatus.ACTIVE, ProductStatus.ACTIVE.label), (ProductStatus.NEW, ProductStatus.NEW.label)],
        initial=ProductStatus.ACTIVE,
        help_text="Discontinuing and re-activating are actions on the product page.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000, required=False)

    def __init__(self, *args, categories, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories
        self.fields["category"].widget.choices = [("", "No category"), *category_options(categories)]
        if editing:
            # The SKU is immutable and status moves through the lifecycle actions (WF-01).
            del self.fields["sku"]
            del self.fields["status"]


class CategoryForm(ConsoleForm):
    field_aliases = {"parent_id": "parent"}

    name = forms.CharField(max_length=255)
    parent = forms.ModelChoiceField(queryset=Category.objects.none(), required=False, empty_label="Top level")
    description = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, categories, editing: Category | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        parents = categories.filter(level__lt=MAX_CATEGORY_LEVEL)
        if editing is not None:
            # A category cannot move under itself or its own subtree; the service re-checks.
            parents = parents.exclude(pk=editing.pk).exclude(parent_id=editing.pk)
        self.fields["parent"].queryset = parents
        self.fields["parent"].widget.choices = [("", "Top level"), *category_options(parents)]


class LocationForm(ConsoleForm):
    code = forms.CharField(max_length=50)
    name = forms.CharField(max_length=255)
    location_type = forms.ChoiceField(label="Type", choices=LocationType.choices, initial=LocationType.WAREHOUSE)
    region = forms.CharField(max_length=100, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]  # immutable (API-LOC-04)


class ReasonForm(ConsoleForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        required=False,
        help_text="Recorded in the product's history.",
    )


MONTH_INPUT_FORMATS = ["%Y-%m", "%Y-%m-%d"]


class DemandPlanForm(ConsoleForm):
    """Create or edit a demand plan. On edit the business key is fixed and `expected_version` guards
    against overwriting someone else's change (WF-05)."""

    product = forms.ModelChoiceField(queryset=None, empty_label="Choose a product")
    period = forms.DateField(
        input_formats=MONTH_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        help_text="Month of the plan.",
    )
    region = forms.CharField(max_length=100, initial="Global")
    channel = forms.CharField(max_length=100, initial="All")
    forecast_qty = forms.DecimalField(label="Forecast qty", max_digits=12, decimal_places=2, min_value=0)
    adjusted_qty = forms.DecimalField(
        label="Adjusted qty", max_digits=12, decimal_places=2, min_value=0, required=False
    )
    confidence = forms.DecimalField(
        label="Confidence (%)", max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False)
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, products=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            # The business key (product, period, region, channel) never changes on an edit.
            for name in ("product", "period", "region", "channel"):
                del self.fields[name]
        else:
            del self.fields["expected_version"]
            self.fields["product"].queryset = products
            self.fields["product"].label_from_instance = lambda p: f"{p.sku} \u2014 {p.name}"


def _stock_qty(label: str, **kwargs):
    return forms.DecimalField(label=label, max_digits=12, decimal_places=2, min_value=0, **kwargs)


class InventoryForm(ConsoleForm):
    """Edit the quantities, dates and policy levels of an inventory row (API-INV-23); status, valuation and
    days of supply are derived. `expected_version` guards against overwriting someone else's change."""

    on_hand_qty = _stock_qty("On hand")
    allocated_qty = _stock_qty("Allocated")
    in_transit_qty = _stock_qty("In transit")
    safety_stock = _stock_qty("Safety stock")
    reorder_point = _stock_qty("Reorder point", help_text="Not below the safety stock.")
    max_stock = _stock_qty("Max stock", required=False, help_text="Empty: no maximum.")
    last_receipt_date = forms.DateField(label="Last receipt", required=False, widget=forms.DateInput(
        attrs={"type": "date"}, format="%Y-%m-%d"))  # fmt: skip
    last_issue_date = forms.DateField(label="Last issue", required=False, widget=forms.DateInput(
        attrs={"type": "date"}, format="%Y-%m-%d"))  # fmt: skip
    expected_version = forms.IntegerField(widget=forms.HiddenInput)


class InventoryOverrideForm(ConsoleForm):
    """Override the policy levels of an inventory row with a required reason (API-INV-24)."""

    safety_stock = _stock_qty("Safety stock")
    reorder_point = _stock_qty("Reorder point", help_text="Not below the safety stock.")
    max_stock = _stock_qty("Max stock", required=False, help_text="Empty: no maximum.")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), min_length=3, max_length=500,
        help_text="Required (3 to 500 characters); recorded in the row's history.",
    )  # fmt: skip
    expected_version = forms.IntegerField(widget=forms.HiddenInput)


def _optional_qty(label: str) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=12, decimal_places=2, min_value=0, required=False)


class SupplyPlanForm(ConsoleForm):
    """Create or edit a supply plan (UI-05). On edit the business key (product, period, location) is
    fixed and `expected_version` guards against overwriting someone else's change (WF-05)."""

    field_aliases = {"location_id": "location"}

    product = forms.ModelChoiceField(queryset=None, empty_label="Choose a product")
    period = forms.DateField(
        input_formats=MONTH_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        help_text="Month of the plan.",
    )
    location = forms.ModelChoiceField(queryset=None, to_field_name="code", empty_label=None)
    planned_prod_qty = _optional_qty("Planned qty")
    capacity_max = _optional_qty("Capacity max")
    supplier_name = forms.CharField(label="Supplier", max_length=255, required=False)
    lead_time_days = forms.IntegerField(label="Lead time (days)", min_value=0, required=False)
    cost_per_unit = _optional_qty("Cost per unit")
    constraints = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False)
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, products=None, locations=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            for name in ("product", "period", "location"):
                del self.fields[name]
        else:
            del self.fields["expected_version"]
            self.fields["product"].queryset = products
            self.fields["product"].label_from_instance = lambda p: f"{p.sku} \u2014 {p.name}"
            self.fields["location"].queryset = locations
            self.fields["location"].label_from_instance = lambda loc: f"{loc.code} \u2014 {loc.name}"
            self.fields["location"].initial = DEFAULT_LOCATION_CODE


class PlanQuantityForm(ConsoleForm):
    """One quantity of a plan, from its grid row or its own page (Adjust, Record actual). `expected_version`
    is the version the user saw, so a change made meanwhile is refused rather than overwritten (WF-05)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, field: str, label: str, required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[field] = forms.DecimalField(label=label, max_digits=12, decimal_places=2, min_value=0,
                                                required=required)  # fmt: skip
