from django.urls import path

from targets import upkeep_views as views

urlpatterns = [
    path("<int:pk>/", views.target_detail, name="target_detail"),
    path("<int:pk>/edit/", views.target_edit, name="target_edit"),
    path("milestones/<int:pk>/edit/", views.milestone_edit, name="milestone_edit"),
]
