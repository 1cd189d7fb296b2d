"""Executive scorecard and meeting pack routes of a cycle (API-SOP-12, API-SOP-17)."""

from django.urls import re_path

from governance.api import scorecard_views as v

urlpatterns = [
    re_path(
        r"^sop-cycles/(?P<pk>[0-9]+)/executive-scorecard/?$",
        v.ExecutiveScorecardView.as_view(),
        name="cycle-executive-scorecard",
    ),
    re_path(r"^sop-cycles/(?P<pk>[0-9]+)/meeting-pack/?$", v.MeetingPackView.as_view(), name="cycle-meeting-pack"),
]
