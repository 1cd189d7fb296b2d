"""Django admin for governance rows (OPS-63).

The admin is one more thin caller of the services: users are created and re-roled through
governance.services, audit rows are read-only, and role groups are read-only because
governance.roles keeps them in line with the permission matrix.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from genxsop.admin import ReadOnlyAdminMixin, ServiceAdminMixin, adopt_saved
from governance import services
from governance.models import AuditEvent, Publication, PublicationItem, PublishPolicy, ReadinessEvaluation, User
from governance.services import publish_policies


class UserCreationForm(forms.ModelForm):
    password1 = forms.CharField(
        label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        required=False,
        help_text="Leave both empty for an account that signs in through SSO only.",
    )
    password2 = forms.CharField(
        label="Password (again)", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), required=False
    )

    class Meta:
        model = User
        fields = ["email", "full_name", "role", "department"]

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            candidate = User(email=data.get("email", ""), full_name=data.get("full_name", ""))
            try:
                validate_password(first, candidate)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


@admin.register(User)
class UserAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["email", "full_name", "role", "department", "is_active", "auth_source", "created_at"]
    list_filter = ["role", "is_active", "auth_source", "is_service_account"]
    search_fields = ["email", "full_name"]
    ordering = ["full_name", "id"]
    add_form = UserCreationForm
    # Only the role is edited here (through user_set_role); the other account changes
    # (deactivation, unlock, password reset) are console operations with their own audit events.
    change_fields = ["email", "full_name", "role", "department", "is_active", "auth_source", "is_service_account",
                     "failed_login_count", "locked_until", "last_login", "created_at", "updated_at"]  # fmt: skip

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["email", "full_name", "role", "department", "password1", "password2"]
        return self.change_fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [name for name in self.change_fields if name != "role"]

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are deactivated, never deleted: the audit trail refers to them

    def save_model(self, request, obj, form, change):
        if not change:
            user = services.user_create(
                actor=request.user,
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                role=form.cleaned_data["role"],
                department=form.cleaned_data.get("department", ""),
                password=form.cleaned_data.get("password1") or None,
            )
            adopt_saved(obj, user)
        elif "role" in form.changed_data:
            services.user_set_role(actor=request.user, user=obj, role=form.cleaned_data["role"])

    def save_related(self, request, form, formsets, change):
        """Groups follow the role (set by the services); nothing else is related."""


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit log is append-only (GOV-07): viewable here, never added, changed or deleted."""

    list_display = ["occurred_at", "event_type", "target_type", "target_id", "target_repr", "actor_name", "source"]
    list_filter = ["source", "target_type", "actor_type"]
    search_fields = ["event_type", "target_id", "target_repr", "actor_name", "request_id"]
    date_hierarchy = "occurred_at"
    list_select_related = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(PublishPolicy)
class PublishPolicyAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """The two lanes' thresholds (GOV-14): changed through publish_policy_update, never added or deleted."""

    list_display = ["lane", "horizon_min", "horizon_max", "freeze_days", "freeze_months", "required_score",
                    "is_active", "updated_at"]  # fmt: skip
    readonly_fields = ["lane", "horizon_unit", "updated_by", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in publish_policies.EDITABLE_FIELDS}
        adopt_saved(obj, publish_policies.publish_policy_update(actor=request.user, lane=obj.lane, data=data))

    def save_related(self, request, form, formsets, change):
        """Nothing related to save."""


@admin.register(ReadinessEvaluation)
class ReadinessEvaluationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Evaluations are never changed (GOV-15)."""

    list_display = ["created_at", "lane", "outcome", "score", "required_score", "dry_run", "evaluated_by"]
    list_filter = ["lane", "outcome", "dry_run"]
    search_fields = ["evaluation_id", "request_id", "plan_fingerprint"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(Publication)
class PublicationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Publications are made and rolled back only through the publish gate (GOV-63, GOV-67); no actions."""

    list_display = ["version_stamp", "lane", "period_from", "period_to", "outcome", "status", "item_count",
                    "published_by", "published_at"]  # fmt: skip
    list_filter = ["lane", "status", "outcome"]
    search_fields = ["version_stamp", "request_id", "snapshot_sha256"]
    date_hierarchy = "published_at"
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(PublicationItem)
class PublicationItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["publication", "plan_type", "plan_id", "plan_version", "product", "period"]
    list_filter = ["plan_type"]
    search_fields = ["publication__version_stamp"]  # a publication's items: search its stamp
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Role groups are derived from governance.roles.ROLE_PERMISSIONS; editing them here would drift."""

    list_display = ["name"]
    filter_horizontal = ["permissions"]
