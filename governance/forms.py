"""Console forms of the governance app: input shape only; the services decide the rest."""

from django import forms
from django.core.validators import MaxValueValidator

from governance.tokens import SCOPES
from planning.forms import ConsoleForm


class ProfileForm(ConsoleForm):
    """Settings → Profile (UI-19)."""

    full_name = forms.CharField(max_length=255)
    department = forms.CharField(max_length=100, required=False)


class ApiTokenForm(ConsoleForm):
    """Settings → API tokens: create one (UI-19). Administrators also pick the owner (ACC-26)."""

    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “ERP nightly sync”.")
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in SCOPES],
        widget=forms.CheckboxSelectMultiple,
        help_text="Reads need the module's :read scope, writes its :write scope.",
    )
    expires_in_days = forms.IntegerField(min_value=1, label="Expires in (days)")
    allowed_ips = forms.CharField(
        required=False,
        label="Allowed networks",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional CIDR list, one per line or comma-separated, e.g. 10.0.0.0/8.",
    )

    def __init__(self, *args, max_days: int, owners: list[tuple[int, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expires_in_days"].max_value = max_days
        self.fields["expires_in_days"].widget.attrs["max"] = max_days
        self.fields["expires_in_days"].validators.append(MaxValueValidator(max_days))
        self.fields["expires_in_days"].help_text = f"At most {max_days} days."
        if owners is not None:
            self.fields["owner"] = forms.TypedChoiceField(
                choices=owners, coerce=int, empty_value=None, required=False, label="Owner",
                help_text="Administrators may issue tokens to any user or service account.",
            )  # fmt: skip
            self.order_fields(["owner"])

    def clean_allowed_ips(self) -> list[str]:
        raw = self.cleaned_data.get("allowed_ips") or ""
        return [part for part in raw.replace(",", "\n").split() if part]
