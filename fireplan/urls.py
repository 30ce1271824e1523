"""The URL map. Each app's pages are in its own ``urls`` module under the app's namespace
(``reports:plan_detail``, ``targets:report_edit``…); README, 页面地址 URLs, lists them."""

from django.contrib import admin
from django.urls import include, path

from fireplan.health import healthz

admin.site.site_header = "消防救援规划任务跟踪系统"
admin.site.site_title = "消防规划跟踪"
admin.site.index_title = "数据管理"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Log-in, password change and (when switched on) reset by e-mail.
    path("accounts/", include("accounts.auth_urls")),
    path("admin/", admin.site.urls),
    path("api/", include("fireplan.api_urls")),
    # /, /plans/ (plan, task), /regions/, /units/, /reporting/ (completeness, periods), /excel/
    path("", include("reports.urls")),
    # /plans/import/ (a plan document → reviewed draft → plan)
    path("plans/import/", include("plan_import.urls")),
    # /plans/…/edit/ (plan, section, task)
    path("plans/", include("planning.urls")),
    # /reporting/ (my reports, review, a report), /targets/ (target, milestone)
    path("", include("targets.urls")),
    path("stations/", include("stations.urls")),
    # /accounts/notices/, /accounts/token/, /accounts/users/
    path("accounts/", include("accounts.urls")),
    # /evidence/: evidence files only through the scope-checked view (nothing serves
    # MEDIA_URL); /downloads/: 我的下载, background jobs and their files (owner only).
    path("", include("core.urls")),
    # Old addresses of pages that moved: permanent redirects to where they are now.
    path("", include("fireplan.moved_urls")),
]

handler400 = "core.api.json_bad_request"
handler403 = "core.api.json_permission_denied"
handler404 = "core.api.json_not_found"
handler500 = "core.api.json_server_error"
