"""Console routes of the Administration section (UI-20)."""

from django.urls import path

from governance import console_views as views

app_name = "administration"
urlpatterns = [
    path("administration/", views.AdministrationIndexView.as_view(), name="index"),
    path("administration/users/", views.UserListView.as_view(), name="user_list"),
    path("administration/users/new/", views.UserCreateView.as_view(), name="user_create"),
    path("administration/users/<int:pk>/", views.UserDetailView.as_view(), name="user_detail"),
    path("administration/users/<int:pk>/deactivate/", views.UserDeactivateView.as_view(), name="user_deactivate"),
    path("administration/users/<int:pk>/reactivate/", views.UserReactivateView.as_view(), name="user_reactivate"),
    path("administration/users/<int:pk>/unlock/", views.UserUnlockView.as_view(), name="user_unlock"),
    path("administration/users/<int:pk>/invite/", views.UserInviteView.as_view(), name="user_invite"),
    path(
        "administration/users/<int:pk>/reset-password/",
        views.UserResetPasswordView.as_view(),
        name="user_reset_password",
    ),
    path("administration/users/<int:pk>/scopes/", views.UserScopesView.as_view(), name="user_scopes"),
]
