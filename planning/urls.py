"""The create and edit pages of plans, sections and tasks, and the section moves (namespace
``planning``, under /plans/ beside the plan and task pages, which read targets too and are the
reports app's)."""

from django.urls import path, re_path

from planning import views

app_name = "planning"

urlpatterns = [
    path("new/", views.plan_create, name="plan_create"),
    path("<int:pk>/stages/new/", views.stage_create, name="stage_create"),
    path("stages/<int:pk>/edit/", views.stage_edit, name="stage_edit"),
    path("<int:pk>/sections/new/", views.section_create, name="section_create"),
    path("<int:pk>/tasks/new/", views.task_create, name="task_create"),
    path("sections/<int:pk>/move/", views.section_move, name="section_move"),
    path("<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("sections/<int:pk>/edit/", views.section_edit, name="section_edit"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
    # 停用 / 恢复 / 删除 and 归档 / 取消归档: POST forms on the edit pages
    re_path(
        r"^(?P<pk>[0-9]+)/(?P<action>archive|unarchive)/$", views.plan_archive, name="plan_archive"
    ),
    re_path(
        r"^sections/(?P<pk>[0-9]+)/(?P<action>retire|restore|delete)/$",
        views.section_action,
        name="section_action",
    ),
    re_path(
        r"^tasks/(?P<pk>[0-9]+)/(?P<action>retire|restore|delete)/$",
        views.task_action,
        name="task_action",
    ),
]
