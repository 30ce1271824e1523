"""The plan, task, region and unit pages (mounted under /plans/ beside planning.urls)."""

from django.urls import path

from reports import plan_views as views

urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("<int:pk>/", views.plan_detail, name="plan_detail"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("regions/<int:pk>/", views.region_detail, name="region_detail"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("tasks/<int:pk>/updates/", views.task_update_create, name="task_update_create"),
]
