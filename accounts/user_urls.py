from django.urls import path

from accounts import user_views

urlpatterns = [
    path("", user_views.user_list, name="user_list"),
    path("new/", user_views.user_create, name="user_create"),
    path("<int:pk>/", user_views.user_edit, name="user_edit"),
    path("<int:pk>/password/", user_views.user_password, name="user_password"),
]
