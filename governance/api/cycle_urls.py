"""S&OP cycle API routes (API-SOP-01…11); `/sop-cycles/active` routes before `/sop-cycles/{id}`."""

from django.urls import re_path

from governance.api import cycle_views as v

urlpatterns = [
    re_path(r"^sop-cycles/?$", v.SopCycleListView.as_view(), name="cycle-list"),
    re_path(r"^sop-cycles/active/?$", v.SopCycleActiveView.as_view(), name="cycle-active"),
    re_path(r"^sop-cycles/(?P<pk>[0-9]+)/?$", v.SopCycleDetailView.as_view(), name="cycle-detail"),
    re_path(r"^sop-cycles/(?P<pk>[0-9]+)/steps/(?P<n>[0-9]+)/?$", v.SopCycleStepView.as_view(), name="cycle-step"),
    re_path(r"^sop-cycles/(?P<pk>[0-9]+)/gates/?$", v.SopCycleGatesView.as_view(), name="cycle-gates"),
    re_path(r"^sop-cycles/(?P<pk>[0-9]+)/advance/?$", v.SopCycleAdvanceView.as_view(), name="cycle-advance"),
    re_path(r"^sop-cycles/(?P<pk>[0-9]+)/skip-step/?$", v.SopCycleSkipStepView.as_view(), name="cycle-skip-step"),
    re_path(r"^sop-cycles/(?P<pk>[0-9]+)/complete/?$", v.SopCycleCompleteView.as_view(), name="cycle-complete"),
    re_path(r"^sop-cycles/(?P<pk>[0-9]+)/cancel/?$", v.SopCycleCancelView.as_view(), name="cycle-cancel"),
]
