"""Django admin for the catalog (OPS-63): every save and delete calls the planning services.

The request middleware marks writes under the admin path with source "admin", so the audit
rows these services write show where the change came from.
"""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from genxsop.admin import ReadOnlyAdminMixin, ServiceAdminMixin, adopt_saved
from planning import permissions as perms
from planning import services
from planning.models import (
    Category,
    DemandPlan,
    IntegrationBatch,
    Inventory,
    InventoryPolicyRecommendation,
    InventoryPolicyRun,
    InventorySnapshot,
    Location,
    OutboundMessage,
    Product,
    ProductionSchedule,
    SupplyPlan,
)


def _cleaned(form, allowed) -> dict:
    return {name: value for name, value in form.cleaned_data.items() if name in allowed}


def _changed(form, allowed) -> dict:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in allowed}


@admin.register(Category)
class CategoryAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["name", "parent", "level", "updated_at"]
    list_filter = ["level"]
    search_fields = ["name"]
    fields = ["name", "parent", "description", "level"]
    readonly_fields = ["level"]
    list_select_related = ["parent"]

    def save_model(self, request, obj, form, change):
        if change:
            services.category_update(
                actor=request.user, category=obj, data=_changed(form, {"name", "parent", "description"})
            )
        else:
            category = services.category_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                parent=form.cleaned_data.get("parent"),
                description=form.cleaned_data.get("description", ""),
            )
            adopt_saved(obj, category)

    def delete_model(self, request, obj):
        services.category_delete(actor=request.user, category=obj)


@admin.register(Product)
class ProductAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["sku", "name", "category", "product_family", "unit_cost", "selling_price", "lead_time_days",
                    "abc_class", "status"]  # fmt: skip
    list_filter = ["status", "abc_class", "category"]
    search_fields = ["sku", "name", "product_family"]
    list_select_related = ["category"]
    actions = ["discontinue_selected"]
    fields = ["sku", "name", "description", "category", "product_family", "unit_of_measure", "unit_cost",
              "selling_price", "lead_time_days", "min_order_qty", "status", "abc_class"]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        # The SKU is immutable, status moves only through discontinue/activate (WF-01) and the
        # ABC class is computed by classification, not typed in.
        return ["abc_class"] if obj is None else ["sku", "status", "abc_class"]

    def has_delete_permission(self, request, obj=None):
        return False  # products are discontinued, never deleted (API-PRD-05)

    def save_model(self, request, obj, form, change):
        if change:
            data = _changed(form, services.PRODUCT_UPDATE_FIELDS)
            services.product_update(actor=request.user, product=obj, data=data)
        else:
            data = _cleaned(form, services.PRODUCT_CREATE_FIELDS)
            adopt_saved(obj, services.product_create(actor=request.user, data=data))

    @admin.action(description="Discontinue selected products", permissions=["discontinue"])
    def discontinue_selected(self, request, queryset):
        self.run_per_row(
            request,
            queryset,
            lambda product: services.product_discontinue(actor=request.user, product=product),
            done="product(s) discontinued",
        )

    def has_discontinue_permission(self, request):
        return request.user.has_perm(perms.DISCONTINUE_PRODUCT)


@admin.register(Location)
class LocationAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "location_type", "region", "is_active"]
    list_filter = ["location_type", "is_active", "region"]
    search_fields = ["code", "name", "region"]
    fields = ["code", "name", "location_type", "region", "is_active"]

    def get_readonly_fields(self, request, obj=None):
        # The code is immutable; deactivation is what deleting a referenced location does.
        return ["is_active"] if obj is None else ["code", "is_active"]

    def save_model(self, request, obj, form, change):
        if change:
            data = _changed(form, services.LOCATION_UPDATE_FIELDS)
            services.location_update(actor=request.user, location=obj, data=data)
        else:
            data = _cleaned(form, services.LOCATION_CREATE_FIELDS)
            adopt_saved(obj, services.location_create(actor=request.user, data=data))

    def log_deletions(self, request, queryset):
        """Logged in delete_model instead, once we know whether the row was deleted or deactivated."""

    def delete_model(self, request, obj):
        kept = services.location_delete(actor=request.user, location=obj)
        if kept is None:
            super().log_deletions(request, [obj])
        else:
            request.location_deactivated = True
            self.log_change(request, obj, "Deactivated instead of deleted: plans or stock refer to it.")
            self.message_user(
                request, f"Location {obj.code} is in use, so it was deactivated instead of deleted.", messages.WARNING
            )

    def response_delete(self, request, obj_display, obj_id):
        if getattr(request, "location_deactivated", False):
            # Skip Django's "deleted successfully": the row is still there, deactivated.
            return HttpResponseRedirect(reverse("admin:planning_location_changelist"))
        return super().response_delete(request, obj_display, obj_id)


_INVENTORY_DERIVED = ["status", "valuation", "valuation_from_erp", "days_of_supply", "policy_source", "snapshot_at",
                      "version", "updated_by"]  # fmt: skip


@admin.register(Inventory)
class InventoryAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["product", "location", "on_hand_qty", "allocated_qty", "in_transit_qty", "safety_stock",
                    "reorder_point", "max_stock", "days_of_supply", "valuation", "status"]  # fmt: skip
    list_filter = ["status", "policy_source", "location"]
    search_fields = ["product__sku", "product__name", "location__code"]
    list_select_related = ["product", "location"]
    raw_id_fields = ["product"]
    fields = ["product", "location", *services.INVENTORY_QUANTITY_FIELDS, *services.INVENTORY_POLICY_FIELDS,
              *_INVENTORY_DERIVED]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        # Status, valuation and days of supply are derived (FRM-03/04/05); the key never moves.
        return _INVENTORY_DERIVED if obj is None else ["product", "location", *_INVENTORY_DERIVED]

    def has_delete_permission(self, request, obj=None):
        return False  # stock positions are corrected, not deleted

    def save_model(self, request, obj, form, change):
        editable = {*services.INVENTORY_QUANTITY_FIELDS, *services.INVENTORY_POLICY_FIELDS}
        if change:
            services.inventory_update(actor=request.user, inventory=obj, data=_changed(form, editable))
        else:
            row = services.inventory_create(
                actor=request.user,
                product=form.cleaned_data["product"],
                location=form.cleaned_data["location"],
                data=_cleaned(form, editable),
            )
            adopt_saved(obj, row)


@admin.register(InventorySnapshot)
class InventorySnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["period", "product", "location", "on_hand_qty", "valuation", "status", "source", "captured_at"]
    list_filter = ["period", "source", "status", "location"]
    search_fields = ["product__sku", "location__code"]
    list_select_related = ["product", "location"]


@admin.register(InventoryPolicyRun)
class InventoryPolicyRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Optimisation runs, read-only: only a run (FRM-06) writes them."""

    list_display = ["created_at", "run_id", "method", "status", "processed_count", "updated_count", "skipped_count",
                    "exception_count", "requested_by"]  # fmt: skip
    list_filter = ["status", "method"]
    search_fields = ["run_id"]
    list_select_related = ["requested_by"]


@admin.register(InventoryPolicyRecommendation)
class InventoryPolicyRecommendationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Policy recommendations, read-only: decisions go through maker-checker (WF-60) in the console or API."""

    list_display = ["created_at", "inventory", "status", "high_impact", "impact_pct", "confidence_score",
                    "generated_by", "accepted_by", "applied_via"]  # fmt: skip
    list_filter = ["status", "high_impact", "applied_via"]
    search_fields = ["inventory__product__sku", "inventory__location__code"]
    list_select_related = ["inventory__product", "inventory__location", "generated_by", "accepted_by"]


@admin.register(DemandPlan)
class DemandPlanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Live and history rows, read-only: plans change only through their lifecycle (WF-10) in the console or API."""

    list_display = ["period", "product", "region", "channel", "forecast_qty", "adjusted_qty", "consensus_qty",
                    "actual_qty", "status", "version", "is_current", "source", "updated_at"]  # fmt: skip
    list_filter = ["status", "is_current", "source", "region", "channel"]
    search_fields = ["product__sku", "product__name"]
    list_select_related = ["product"]


@admin.register(SupplyPlan)
class SupplyPlanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Live and history rows, read-only: plans change only through their lifecycle (WF-11) in the console or API."""

    list_display = ["period", "product", "location", "planned_prod_qty", "capacity_max", "status", "version",
                    "is_current", "source", "updated_at"]  # fmt: skip
    list_filter = ["status", "is_current", "source", "location"]
    search_fields = ["product__sku", "product__name", "location__code"]
    list_select_related = ["product", "location"]


@admin.register(IntegrationBatch)
class IntegrationBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Sync calls and file imports, read-only: only the batch engine writes them (INT-01…04)."""

    list_display = ["created_at", "operation", "channel", "status", "source_system", "processed", "created", "updated",
                    "skipped", "failed", "dry_run", "actor"]  # fmt: skip
    list_filter = ["operation", "channel", "status", "dry_run"]
    search_fields = ["source_system", "batch_id", "idempotency_key", "file_name", "batch_uuid"]
    list_select_related = ["actor"]


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The ERP outbox, read-only: messages change through publishing, delivery, ack and retry (WF-81)."""

    list_display = ["created_at", "message_id", "kind", "target_system", "status", "attempts", "acknowledged_at"]
    list_filter = ["status", "kind", "target_system"]
    search_fields = ["message_id", "external_reference"]


@admin.register(ProductionSchedule)
class ProductionScheduleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Production slots, read-only: they change only by generation, status moves and resequencing (WF-70)."""

    list_display = ["period", "supply_plan", "sequence_order", "workcenter", "line", "shift", "planned_qty",
                    "planned_start_at", "status"]  # fmt: skip
    list_filter = ["status", "workcenter", "line", "shift"]
    search_fields = ["product__sku", "workcenter", "line"]
    list_select_related = ["supply_plan", "product"]
