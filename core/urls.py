"""core's pages (namespace ``core``): evidence files only through the scope-checked view
(/evidence/; nothing serves MEDIA_URL), and 我的下载 — background jobs, their progress and
files, their owner's only (/downloads/)."""

from django.urls import path

from core import job_views
from core.evidence_views import evidence_download

app_name = "core"

urlpatterns = [
    path("evidence/<int:pk>/download/", evidence_download, name="evidence_download"),
    path("downloads/", job_views.job_list, name="job_list"),
    path("downloads/<int:pk>/", job_views.job_detail, name="job_detail"),
    path("downloads/<int:pk>/progress/", job_views.job_progress, name="job_progress"),
    path("downloads/<int:pk>/cancel/", job_views.job_cancel, name="job_cancel"),
    path("downloads/<int:pk>/download/", job_views.job_download, name="job_download"),
]
