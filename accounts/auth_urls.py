"""Django's log-in and password pages (the paths and plain names of django.contrib.auth.urls,
which LOGIN_URL and the templates use), with the password reset by e-mail behind its switch
(accounts.password_reset). Mounted under /accounts/ beside the ``accounts`` namespace."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import password_reset, views

urlpatterns = [
    path("login/", views.LoginPage.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password_reset/", password_reset.request_view, name="password_reset"),
    path("password_reset/done/", password_reset.done_view, name="password_reset_done"),
    path("reset/<uidb64>/<token>/", password_reset.confirm_view, name="password_reset_confirm"),
    path("reset/done/", password_reset.complete_view, name="password_reset_complete"),
]
