"""The planning-office pages (mounted under /planning-office/, since /reports/ belongs to
targets.urls): reporting periods and locks, and the completeness matrix."""

from django.urls import path

from reports import period_views, views

urlpatterns = [
    path("completeness/", views.completeness_page, name="completeness"),
    path("periods/", period_views.period_list, name="period_list"),
    path("periods/open/", period_views.period_open, name="period_open"),
    path(
        "periods/<int:pk>/exception/",
        period_views.lock_exception_grant,
        name="lock_exception_grant",
    ),
]
