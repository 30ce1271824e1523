from django.urls import path

from targets import views

urlpatterns = [
    path("my/", views.my_reports, name="my_reports"),
    path("review/", views.review_inbox, name="review_inbox"),
    path("review/approve/", views.reports_bulk_approve, name="reports_bulk_approve"),
    path(
        "<int:target_id>/<int:region_id>/<str:period>/",
        views.report_edit,
        name="report_edit",
    ),
    path("<int:pk>/submit/", views.report_submit, name="report_submit"),
    path("<int:pk>/approve/", views.report_approve, name="report_approve"),
    path("<int:pk>/return/", views.report_return, name="report_return"),
    path("<int:pk>/reopen/", views.report_reopen, name="report_reopen"),
]
