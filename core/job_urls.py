"""我的下载 and the background jobs' pages (namespace ``jobs``, under /downloads/)."""

from django.urls import path

from core import job_views

app_name = "jobs"

urlpatterns = [
    path("", job_views.job_list, name="job_list"),
    path("<int:pk>/", job_views.job_detail, name="job_detail"),
    path("<int:pk>/progress/", job_views.job_progress, name="job_progress"),
    path("<int:pk>/cancel/", job_views.job_cancel, name="job_cancel"),
    path("<int:pk>/download/", job_views.job_download, name="job_download"),
]
