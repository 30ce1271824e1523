"""The accounts pages (namespace ``accounts``, under /accounts/ beside Django's login and
password pages): notices, the API token, and user management (/accounts/users/)."""

from django.urls import include, path

from accounts import user_views, views

app_name = "accounts"

users = [
    path("", user_views.user_list, name="user_list"),
    path("new/", user_views.user_create, name="user_create"),
    path("<int:pk>/", user_views.user_edit, name="user_edit"),
    path("<int:pk>/password/", user_views.user_password, name="user_password"),
]

urlpatterns = [
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/read/", views.notices_mark_read, name="notices_mark_read"),
    path("token/", views.api_token, name="api_token"),
    path("users/", include(users)),
]
