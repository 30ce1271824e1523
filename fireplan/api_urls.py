"""/api/v1/ (every app's router) and the OpenAPI schema and docs, served offline."""

from django.conf import settings
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from accounts.api import ObtainTokenView
from core.job_api import JobViewSet
from core.security import csp_override
from planning.api.urls import router as planning_router
from reports import api as reports_api
from stations.api import router as stations_router
from targets.api.urls import router as targets_router

router = DefaultRouter(trailing_slash=True)
# No ".json" suffix routes: the API speaks JSON (?format= still works), and the suffix routes
# handed `format` to the @action methods, which do not take it (a 500 on /summary.json/).
router.include_format_suffixes = False
for app_router in (planning_router, targets_router, stations_router):
    router.registry.extend(app_router.registry)
router.register("jobs", JobViewSet, basename="job")
# Plans and regions are served with the actions that read targets (summary, integrity), which
# the reports layer adds to planning's viewsets.
EXTENDED = {"plans": reports_api.PlanViewSet, "regions": reports_api.RegionViewSet}
router.registry[:] = [
    (prefix, EXTENDED.get(prefix, viewset), basename)
    for prefix, viewset, basename in router.registry
]

# Redoc builds its styles at run time (styled-components' <style> elements) and searches in a
# blob: worker; it cannot run under the site's policy, so its one page allows both.
REDOC_CSP = settings.SECURE_CSP | {
    "style-src": ["'self'", "'unsafe-inline'"],
    "worker-src": ["'self'", "blob:"],
}

urlpatterns = [
    path("v1/auth/token/", ObtainTokenView.as_view(), name="api_auth_token"),
    path("v1/exports/", include("reports.excel.api")),
    path("v1/charts/", reports_api.OverviewChartsView.as_view(), name="api_overview_charts"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api_schema"),
    path(
        "docs/",
        # The split view serves its start-up script as a file: no inline script (CSP).
        SpectacularSwaggerSplitView.as_view(url_name="api_schema", permission_classes=[AllowAny]),
        name="api_docs",
    ),
    path(
        "redoc/",
        csp_override(REDOC_CSP)(
            SpectacularRedocView.as_view(url_name="api_schema", permission_classes=[AllowAny])
        ),
        name="api_redoc",
    ),
]
