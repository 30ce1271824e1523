from django.contrib import admin
from django.urls import include, path

from core.evidence_views import evidence_download
from fireplan.health import healthz
from reports.plan_views import home

admin.site.site_header = "消防救援规划任务跟踪系统"
admin.site.site_title = "消防规划跟踪"
admin.site.index_title = "数据管理"

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    # Log-in, password change and (when switched on) reset by e-mail, notices, API tokens.
    path("accounts/", include("accounts.urls")),
    path("reports/", include("targets.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("fireplan.api_urls")),
    path("accounts/users/", include("accounts.user_urls")),
    path("planning-office/", include("reports.urls")),
    path("plans/", include("reports.plan_urls")),
    path("plans/", include("planning.urls")),
    path("stations/", include("stations.urls")),
    path("targets/", include("targets.upkeep_urls")),
    path("excel/", include("reports.excel_urls")),
    # Evidence files only through this scope-checked view; nothing serves MEDIA_URL.
    path("evidence/<int:pk>/download/", evidence_download, name="evidence_download"),
]

handler404 = "core.api.json_not_found"
handler500 = "core.api.json_server_error"
