"""Console pages of the S&OP cycle (UI-11)."""

from django.urls import path

from governance import views_cycles as v

urlpatterns = [
    path("sop-cycle/", v.CycleListView.as_view(), name="cycle_list"),
    path("sop-cycle/new/", v.CycleCreateView.as_view(), name="cycle_create"),
    path("sop-cycle/<int:pk>/", v.CycleDetailView.as_view(), name="cycle_detail"),
    path("sop-cycle/<int:pk>/edit/", v.CycleEditView.as_view(), name="cycle_edit"),
    path("sop-cycle/<int:pk>/advance/", v.CycleAdvanceView.as_view(), name="cycle_advance"),
    path("sop-cycle/<int:pk>/skip/", v.CycleSkipView.as_view(), name="cycle_skip"),
    path("sop-cycle/<int:pk>/complete/", v.CycleCompleteView.as_view(), name="cycle_complete"),
    path("sop-cycle/<int:pk>/cancel/", v.CycleCancelView.as_view(), name="cycle_cancel"),
    path("sop-cycle/<int:pk>/decisions/", v.CycleDecisionView.as_view(), name="cycle_decision"),
    path("sop-cycle/<int:pk>/action-items/", v.CycleActionItemView.as_view(), name="cycle_action_item"),
    path("sop-cycle/<int:pk>/comments/", v.CycleCommentView.as_view(), name="cycle_comment"),
    path("sop-cycle/<int:pk>/steps/<int:n>/", v.CycleStepEditView.as_view(), name="cycle_step_edit"),
    path("sop-cycle/<int:pk>/steps/<int:n>/start/", v.CycleStepStartView.as_view(), name="cycle_step_start"),
]
