"""The reports app's pages (namespace ``reports``): the overview at /, the pages that read
plans with their targets and progress (/plans/, /regions/, /units/), the planning office's
reporting pages (/reporting/: completeness, reporting periods and lock exceptions; the
reporting workflow itself is targets.urls, also under /reporting/) and the Excel pages
(/excel/). README, 页面地址 URLs, has the whole map."""

from django.urls import include, path

from reports import briefing_views, excel_views, period_views, plan_views, views

app_name = "reports"

plans = [
    path("", plan_views.plan_list, name="plan_list"),
    path("<int:pk>/", plan_views.plan_detail, name="plan_detail"),
    path("<int:pk>/briefing/", briefing_views.plan_briefing, name="plan_briefing"),
    path("<int:pk>/successor/", plan_views.plan_successor, name="plan_successor"),
    path(
        "<int:pk>/evaluation-report/",
        plan_views.plan_evaluation_report,
        name="plan_evaluation_report",
    ),
    path("tasks/<int:pk>/", plan_views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/updates/", plan_views.task_update_create, name="task_update_create"),
]

reporting = [
    path("completeness/", views.completeness_page, name="completeness"),
    path("periods/", period_views.period_list, name="period_list"),
    path("periods/open/", period_views.period_open, name="period_open"),
    path(
        "periods/<int:pk>/exception/",
        period_views.lock_exception_grant,
        name="lock_exception_grant",
    ),
]

excel = [
    path("", excel_views.excel_home, name="excel_home"),
    path("template/", excel_views.figures_template_download, name="excel_template"),
    path("import/", excel_views.figures_upload, name="excel_upload"),
    path("import/<int:pk>/", excel_views.figures_preview, name="excel_preview"),
    path("import/<int:pk>/commit/", excel_views.figures_commit, name="excel_commit"),
    path("assessment/", excel_views.assessment, name="excel_assessment"),
    path(
        "assessment/rules/<int:plan_id>/<int:year>/",
        excel_views.scheme_edit,
        name="excel_scheme",
    ),
    path("evaluation/", excel_views.evaluation, name="excel_evaluation"),
    path("ledgers/tasks/", excel_views.task_ledger_export, name="excel_task_ledger"),
    path("ledgers/stations/", excel_views.station_register_export, name="excel_station_register"),
    path("ledgers/reports/", excel_views.report_ledger_export, name="excel_report_ledger"),
]

urlpatterns = [
    path("", plan_views.home, name="home"),
    path("plans/", include(plans)),
    path("briefing/", briefing_views.overview_briefing, name="briefing"),
    path("regions/<int:pk>/", plan_views.region_detail, name="region_detail"),
    path("regions/<int:pk>/briefing/", briefing_views.region_briefing, name="region_briefing"),
    path("units/<int:pk>/", plan_views.unit_detail, name="unit_detail"),
    path("reporting/", include(reporting)),
    path("excel/", include(excel)),
]
