"""The Excel pages, mounted at /excel/ (fireplan.urls)."""

from django.urls import path

from reports import excel_views as views

urlpatterns = [
    path("", views.excel_home, name="excel_home"),
    path("template/", views.figures_template_download, name="excel_template"),
    path("import/", views.figures_upload, name="excel_upload"),
    path("import/<int:pk>/", views.figures_preview, name="excel_preview"),
    path("import/<int:pk>/commit/", views.figures_commit, name="excel_commit"),
    path("assessment/", views.assessment, name="excel_assessment"),
    path("assessment/rules/<int:plan_id>/<int:year>/", views.scheme_edit, name="excel_scheme"),
    path("evaluation/", views.evaluation, name="excel_evaluation"),
    path("ledgers/tasks/", views.task_ledger_export, name="excel_task_ledger"),
    path("ledgers/stations/", views.station_register_export, name="excel_station_register"),
    path("ledgers/reports/", views.report_ledger_export, name="excel_report_ledger"),
]
