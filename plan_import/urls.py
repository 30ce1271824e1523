"""/plans/import/ (upload a plan document), /plans/import/<pk>/ (review and publish it)."""

from django.urls import path

from plan_import import views

app_name = "plan_import"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("<int:pk>/", views.review, name="review"),
]
