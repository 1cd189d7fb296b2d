"""Administration console (UI-20): users, their lifecycle and object scopes. Administrators only.

Thin callers: reads through governance.selectors, writes through governance.services.admin_users
and governance.services.scopes; the shared page shapes come from genxsop.console.
"""

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, RedirectView, TemplateView

from genxsop import errors
from genxsop.console import (
    ConsolePermissionMixin,
    ListMixin,
    SelectedObjectMixin,
    ServiceFormMixin,
    raise_page_error,
)
from governance import selectors
from governance.choices import Role
from governance.invitations import invitation_applies
from governance.services import admin_users, scopes

MANAGE_USERS = "governance.change_user"
ACCESS_CHOICES = [("", "None"), ("view", "View"), ("change", "Change")]


# Forms ------------------------------------------------------------------------------------


class AdminForm(forms.Form):
    """Plain labels, and a service's refusal shown on the inputs it names."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_domain_error(self, exc: errors.DomainError) -> None:
        placed = False
        for name, msgs in (exc.fields or {}).items():
            target = name if name in self.fields and name not in self.errors else None
            for message in msgs if isinstance(msgs, list | tuple) else [msgs]:
                self.add_error(target, str(message))
                placed = True
        if not placed:
            self.add_error(None, exc.message)


class UserCreateForm(AdminForm):
    email = forms.EmailField(max_length=254)
    full_name = forms.CharField(label="Full name", max_length=255)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)
    department = forms.CharField(max_length=100, required=False)
    is_service_account = forms.BooleanField(
        label="Service account", required=False, help_text="No password and no console sign-in; API tokens only."
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), required=False, strip=False,
        help_text="Leave empty to e-mail the person an invitation to choose their own password.",
    )  # fmt: skip


class UserEditForm(AdminForm):
    full_name = forms.CharField(label="Full name", max_length=255)
    role = forms.ChoiceField(choices=Role.choices)
    department = forms.CharField(max_length=100, required=False)


class ResetPasswordForm(AdminForm):
    new_password = forms.CharField(
        label="New password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


# Views ------------------------------------------------------------------------------------


class AdministrationMixin(ConsolePermissionMixin):
    permission_required = MANAGE_USERS


class AdministrationIndexView(RedirectView):
    pattern_name = "administration:user_list"


def _user_list(*, user, filters: dict | None = None):
    """The directory with the console's text filters turned into the selector's values."""
    filters = dict(filters or {})
    if "is_active" in filters:
        filters["is_active"] = {"true": True, "false": False}.get(filters["is_active"])
    return selectors.user_list(user=user, filters=filters)


class UserListView(ListMixin, AdministrationMixin, TemplateView):
    template_name = "governance/users_list.html"
    list_selector = staticmethod(_user_list)
    filter_keys = ("search", "role", "is_active")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["role_choices"] = Role.choices
        return context


class UserCreateView(ServiceFormMixin, AdministrationMixin, FormView):
    template_name = "governance/users_form.html"
    form_class = UserCreateForm
    invited = False

    @property
    def success_message(self) -> str:
        invitation = " Invitation sent to {object.email}." if self.invited else ""
        return "User {object.email} created." + invitation

    def save(self, data):
        user = admin_users.admin_user_create(
            actor=self.request.user, email=data["email"], full_name=data["full_name"], role=data["role"],
            department=data.get("department", ""), password=data.get("password") or None,
            is_service_account=data.get("is_service_account", False),
        )  # fmt: skip
        self.invited = invitation_applies(user)
        return user

    def success_url_for(self, obj) -> str:
        return reverse("administration:user_detail", args=[obj.pk])


class UserObjectMixin(SelectedObjectMixin):
    object_selector = staticmethod(selectors.user_admin_get)
    context_object_name = "subject"


class UserDetailView(UserObjectMixin, ServiceFormMixin, AdministrationMixin, FormView):
    """The user's facts and the edit form (name, role, department), with the lifecycle actions."""

    template_name = "governance/users_detail.html"
    form_class = UserEditForm
    success_message = "User {object.email} saved."

    def get_initial(self):
        user = self.object
        return {"full_name": user.full_name, "role": user.role, "department": user.department}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["reset_form"] = ResetPasswordForm(auto_id="id_reset_%s")
        context["scopes"] = scopes.user_scopes(self.object)
        context["is_self"] = self.object.pk == self.request.user.pk
        context["invitation_pending"] = invitation_applies(self.object)
        return context

    def save(self, data):
        return admin_users.user_update(actor=self.request.user, user=self.object, data=data)

    def success_url_for(self, obj) -> str:
        return reverse("administration:user_detail", args=[obj.pk])


class UserActionView(UserObjectMixin, AdministrationMixin, View):
    """POST-only lifecycle actions; a refusal (e.g. the last admin) is an error message, not a page."""

    http_method_names = ["post"]
    done = ""

    def perform(self, user):
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        user = self.object
        try:
            self.perform(user)
        except errors.DomainError as exc:
            raise_page_error(exc)
            messages.error(request, exc.message)
        else:
            messages.success(request, self.done.format(user=user))
        return HttpResponseRedirect(reverse("administration:user_detail", args=[user.pk]))


class UserDeactivateView(UserActionView):
    done = "{user.email} deactivated: sessions and tokens ended."

    def perform(self, user):
        admin_users.user_deactivate(actor=self.request.user, user=user, reason=self.request.POST.get("reason", ""))


class UserReactivateView(UserActionView):
    done = "{user.email} reactivated."

    def perform(self, user):
        admin_users.user_reactivate(actor=self.request.user, user=user)


class UserUnlockView(UserActionView):
    done = "{user.email} unlocked."

    def perform(self, user):
        admin_users.user_unlock(actor=self.request.user, user=user)


class UserInviteView(UserActionView):
    done = "Invitation sent to {user.email}."

    def perform(self, user):
        admin_users.user_invite(actor=self.request.user, user=user)


class UserResetPasswordView(UserActionView):
    done = "Password of {user.email} reset; their sessions were ended."

    def perform(self, user):
        form = ResetPasswordForm(self.request.POST)
        if not form.is_valid():
            raise errors.ValidationFailed("Enter the new password.")
        admin_users.user_reset_password(
            actor=self.request.user, user=user, new_password=form.cleaned_data["new_password"]
        )


class UserScopesView(UserObjectMixin, AdministrationMixin, TemplateView):
    """Object-scope editor (ACC-08): every category (as a tree) and location with none / view / change."""

    template_name = "governance/users_scopes.html"

    def _rows(self):
        from planning.models import Category, Location

        held = {(g["type"], g["id"]): g["access"] for g in scopes.user_scopes(self.object)}
        categories = list(Category.objects.order_by("level", "name", "id"))
        children: dict = {}
        for category in categories:
            children.setdefault(category.parent_id, []).append(category)
        tree = []

        def walk(parent_id, depth):
            for category in children.get(parent_id, []):
                tree.append({"field": f"category-{category.pk}", "label": category.name, "indent": "\u2014 " * depth,
                             "access": held.get(("category", category.pk), "")})  # fmt: skip
                walk(category.pk, depth + 1)

        walk(None, 0)
        locations = [
            {"field": f"location-{loc.pk}", "label": f"{loc.code} \u2014 {loc.name}",
             "access": held.get(("location", loc.pk), "")}
            for loc in Location.objects.order_by("code")
        ]  # fmt: skip
        return tree, locations

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["category_rows"], context["location_rows"] = self._rows()
        context["access_choices"] = ACCESS_CHOICES
        context["unrestricted_role"] = self.object.role in scopes.UNRESTRICTED_ROLES
        return context

    def post(self, request, *args, **kwargs):
        entries = []
        for key, value in request.POST.items():
            kind, _, pk = key.partition("-")
            if kind in scopes.SCOPE_TYPES and pk.isdigit() and value in ("view", "change"):
                entries.append({"type": kind, "id": int(pk), "access": value})
        try:
            scopes.user_scopes_set(actor=request.user, user=self.object, scopes=entries)
        except errors.DomainError as exc:
            raise_page_error(exc)
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("administration:user_scopes", args=[self.object.pk]))
        messages.success(request, f"Scopes of {self.object.email} saved.")
        return HttpResponseRedirect(reverse("administration:user_detail", args=[self.object.pk]))
