from django.urls import path

from planning import views

urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("<int:pk>/", views.plan_detail, name="plan_detail"),
    path("<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("sections/<int:pk>/edit/", views.section_edit, name="section_edit"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
    path("regions/<int:pk>/", views.region_detail, name="region_detail"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("tasks/<int:pk>/updates/", views.task_update_create, name="task_update_create"),
]
