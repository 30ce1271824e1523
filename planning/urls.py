from django.urls import path

from planning import views

urlpatterns = [
    path("<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("sections/<int:pk>/edit/", views.section_edit, name="section_edit"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
]
