"""The target pages (namespace ``targets``): the reporting workflow under /reporting/ —
what I owe, the review inbox, a report and its actions — and under /targets/ a target with
its edit page, the create pages of targets (of a plan or task) and milestones (of a target),
the milestone edit page and the base figures (基础数据) of a region and year.
The planning office's reporting pages (completeness, periods) are the reports app's, also
under /reporting/ (reports/urls.py)."""

from django.urls import include, path, re_path

from targets import views

app_name = "targets"

reporting = [
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

upkeep = [
    path("<int:pk>/", views.target_detail, name="target_detail"),
    path("<int:pk>/edit/", views.target_edit, name="target_edit"),
    # 「新增指标」 of a plan (?task=<id> for one of its tasks) and 「新增节点」 of a target
    path("new/<int:plan_id>/", views.target_create, name="target_create"),
    path("<int:target_id>/milestones/new/", views.milestone_create, name="milestone_create"),
    path(
        "tasks/<int:task_id>/milestones/new/",
        views.task_milestone_create,
        name="task_milestone_create",
    ),
    path("<int:pk>/adjust/", views.target_adjust, name="target_adjust"),
    # 指标分解: the target's value among the regions below (「分解到区县」), or one row's value
    path("<int:pk>/split/", views.allocation_split, name="allocation_split"),
    path("<int:pk>/split/<int:region_id>/", views.allocation_split, name="allocation_split_region"),
    path("<int:pk>/evaluation-note/", views.target_evaluation_note, name="target_evaluation_note"),
    path("milestones/<int:pk>/edit/", views.milestone_edit, name="milestone_edit"),
    # 停用 / 恢复 / 删除: POST forms on the edit pages (allocations: on the target page)
    re_path(
        r"^(?P<pk>[0-9]+)/(?P<action>retire|restore|delete)/$",
        views.target_action,
        name="target_action",
    ),
    re_path(
        r"^milestones/(?P<pk>[0-9]+)/(?P<action>retire|restore|delete)/$",
        views.milestone_action,
        name="milestone_action",
    ),
    re_path(
        r"^allocations/(?P<pk>[0-9]+)/(?P<action>retire|restore|delete)/$",
        views.allocation_action,
        name="allocation_action",
    ),
    # 基础数据: fire statistics, population and the bases formulas name (?plan=<id> to
    # ask only for what that plan's formulas read)
    path("bases/<int:region_id>/<int:year>/", views.base_figures, name="base_figures"),
]

urlpatterns = [
    path("reporting/", include(reporting)),
    path("targets/", include(upkeep)),
]
