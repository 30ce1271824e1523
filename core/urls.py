"""Evidence files (namespace ``core``, under /evidence/): only through this scope-checked view;
nothing serves MEDIA_URL."""

from django.urls import path

from core.evidence_views import evidence_download

app_name = "core"

urlpatterns = [
    path("<int:pk>/download/", evidence_download, name="evidence_download"),
]
