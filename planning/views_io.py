"""Console file import page (INT-20): upload, validate or apply, and the row-level result."""

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import NoReverseMatch, path, reverse
from django.views.generic import FormView

from genxsop import errors
from planning.fileio import imports
from planning.fileio.datasets import DATASETS

# Where "back" goes from each dataset's import page.
_LIST_PAGES = {
    "products": "planning:product_list",
    "demand_plans": "planning:demand_plan_list",
    "demand_actuals": "planning:demand_plan_list",
    "supply_plans": "planning:supply_plan_list",
    "inventory": "planning:inventory_list",
}
# Datasets imported from the same page as another (demand actuals beside demand plans).
_SIBLINGS = {"demand_plans": ["demand_actuals"], "demand_actuals": ["demand_plans"]}


class FileImportForm(forms.Form):
    file = forms.FileField(label="File", help_text="CSV (UTF-8, header row) or XLSX (first sheet, header row).")
    mode = forms.ChoiceField(
        label="Mode",
        choices=[("validate", "Validate only (writes nothing)"), ("apply", "Apply")],
        initial="validate",
        widget=forms.RadioSelect,
    )
    atomic = forms.BooleanField(label="All or nothing: apply only when every row is valid", required=False,
                                initial=True)  # fmt: skip
    force = forms.BooleanField(label="Apply again even if this exact file was applied in the last 24 hours",
                               required=False)  # fmt: skip


def _url(name: str, **kwargs) -> str | None:
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


class FileImportView(LoginRequiredMixin, FormView):
    form_class = FileImportForm
    template_name = "planning/file_import.html"

    def dispatch(self, request, *args, **kwargs):
        self.dataset = DATASETS.get(kwargs["dataset"])
        if self.dataset is None or not self.dataset.importable:
            raise Http404("Unknown import.")
        if request.user.is_authenticated and not request.user.has_perms(self.dataset.import_perms):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        name = self.dataset.name
        context.update(
            dataset=self.dataset,
            columns=self.dataset.import_columns,
            required_columns=self.dataset.required_columns,
            list_url=_url(_LIST_PAGES.get(name, "")) if name in _LIST_PAGES else None,
            template_urls={
                fmt: f"{url}?format={fmt}"
                for fmt in ("csv", "xlsx")
                if (url := _url(f"api:planning-api:io-{name}-template"))
            },
            siblings=[
                {"label": DATASETS[s].label, "url": _url("planning:io_import", dataset=s)}
                for s in _SIBLINGS.get(name, [])
                if self.request.user.has_perms(DATASETS[s].import_perms)
            ],
        )
        return context

    def form_valid(self, form):
        options = {"mode": form.cleaned_data["mode"], "atomic": form.cleaned_data["atomic"],
                   "force": form.cleaned_data["force"]}  # fmt: skip
        try:
            _, result = imports.file_import(actor=self.request.user, dataset=self.dataset.name,
                                            upload=form.cleaned_data["file"], options=options)  # fmt: skip
        except errors.PermissionDenied:
            raise PermissionDenied from None
        except errors.DomainError as exc:
            form.add_error("file", exc.message)
            return self.form_invalid(form)
        # A fresh form for the next upload; the result stays on the page.
        return self.render_to_response(self.get_context_data(form=self.form_class(initial=options), result=result))


urlpatterns = [
    path("import/<slug:dataset>/", FileImportView.as_view(), name="io_import"),
]
