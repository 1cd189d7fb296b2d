"""Forecasting console forms: they check the shape of the input; the services decide the rest."""

import json

from django import forms
from django.conf import settings

from forecasting.choices import AnomalyMethod
from forecasting.models import MAX_HORIZON
from planning.forms import ConsoleForm

WINDOWS = ((3, "3 months"), (6, "6 months"), (9, "9 months"), (12, "12 months"))
MIN_TRAIN = ((3, "3 months"), (6, "6 months"), (12, "12 months"))


def _json_object(value: str, *, label: str) -> dict | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        raise forms.ValidationError(f"{label} must be valid JSON.") from None
    if not isinstance(parsed, dict):
        raise forms.ValidationError(f"{label} must be a JSON object.")
    return parsed


def _horizon_field(**kwargs):
    return forms.IntegerField(min_value=1, max_value=MAX_HORIZON, help_text=f"Months ahead, 1 to {MAX_HORIZON}.",
                              **kwargs)  # fmt: skip


class GenerateForm(ConsoleForm):
    """Model setup (UI-09 stage 3): the same fields for Generate now, as a job and for all products."""

    model_type = forms.ChoiceField(label="Model", required=False)
    horizon = _horizon_field()
    model_params = forms.CharField(label="Parameters (JSON)", required=False,
                                   widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}))  # fmt: skip

    def __init__(self, *args, catalogue: list[dict] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.catalogue = catalogue or []
        self.fields["model_type"].choices = [("", "Automatic")] + [(r["id"], r["name"]) for r in self.catalogue]
        self.fields["horizon"].initial = settings.FORECAST_DEFAULT_HORIZON

    def clean_model_params(self):
        return _json_object(self.cleaned_data.get("model_params", ""), label="Parameters")

    def clean_model_type(self):
        value = self.cleaned_data.get("model_type") or None
        row = next((r for r in self.catalogue if r["id"] == value), None)
        if row is not None and row["disabled"]:
            raise forms.ValidationError(f"{row['name']} is not available: {row['reason']}.")
        return value


class BacktestForm(ConsoleForm):
    """Backtesting (UI-09 stage 2): FC-42 parameters."""

    window = forms.TypedChoiceField(label="Test window", choices=WINDOWS, coerce=int, initial=6)
    min_train = forms.TypedChoiceField(label="Minimum training", choices=MIN_TRAIN, coerce=int, initial=6)
    models = forms.MultipleChoiceField(label="Models", required=False, widget=forms.CheckboxSelectMultiple,
                                       help_text="None ticked: every available model.")  # fmt: skip
    parameter_grid = forms.CharField(label="Parameter grid (JSON)", required=False,
                                     widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}))  # fmt: skip

    field_aliases = {"test_months": "window", "min_train_months": "min_train"}

    def __init__(self, *args, models: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["models"].choices = list(models)

    def clean_parameter_grid(self):
        grid = _json_object(self.cleaned_data.get("parameter_grid", ""), label="Parameter grid")
        if grid is not None:
            for model, sets in grid.items():
                if not isinstance(sets, list) or not all(isinstance(s, dict) for s in sets):
                    raise forms.ValidationError(f"The grid of {model} must be a list of parameter objects.")
        return grid


class DetectAnomaliesForm(ConsoleForm):
    method = forms.ChoiceField(choices=AnomalyMethod.choices)
    threshold = forms.DecimalField(
        min_value=0,
        max_digits=6,
        decimal_places=2,
        required=False,
        help_text="z-score: |z| above this; IQR: multiples of the interquartile range. Blank: the default.",
    )


class PromoteForm(ConsoleForm):
    """Promote to demand plan (FC-33)."""

    horizon = _horizon_field()
    set_consensus = forms.BooleanField(label="Set consensus quantity too", required=False)
    notes = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class ConsensusForm(ConsoleForm):
    """Consensus quantity (UI-09 modal): FRM-28 inputs; pre and final are computed by the service."""

    baseline_qty = forms.DecimalField(label="Baseline", min_value=0, max_digits=12, decimal_places=2)
    sales_override_qty = forms.DecimalField(label="Sales override", max_digits=12, decimal_places=2, initial=0)
    marketing_uplift_qty = forms.DecimalField(label="Marketing uplift", max_digits=12, decimal_places=2, initial=0)
    finance_adjustment_qty = forms.DecimalField(label="Finance adjustment", max_digits=12, decimal_places=2,
                                                initial=0)  # fmt: skip
    constraint_cap_qty = forms.DecimalField(label="Constraint cap", min_value=0, max_digits=12, decimal_places=2,
                                            required=False)  # fmt: skip
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class AnomalyTriageForm(ConsoleForm):
    corrected_value = forms.DecimalField(label="Corrected value", min_value=0, max_digits=12, decimal_places=2,
                                         required=False)  # fmt: skip
    notes = forms.CharField(required=False, max_length=2000)


class CleanupForm(ConsoleForm):
    retention_days = forms.IntegerField(label="Retention days", min_value=1, max_value=3650)
    dry_run = forms.BooleanField(label="Dry run (count only)", required=False, initial=True)
