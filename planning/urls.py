"""The edit pages of plans, sections and tasks (namespace ``planning``, under /plans/ beside
the plan and task pages, which read targets too and are the reports app's)."""

from django.urls import path

from planning import views

app_name = "planning"

urlpatterns = [
    path("<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("sections/<int:pk>/edit/", views.section_edit, name="section_edit"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
]
