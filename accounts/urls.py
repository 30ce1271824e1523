from django.urls import path

from accounts import views

urlpatterns = [
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/read/", views.notices_mark_read, name="notices_mark_read"),
    path("token/", views.api_token, name="api_token"),
]
