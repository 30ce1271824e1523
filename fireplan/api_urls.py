"""/api/v1/ (every app's router) and the OpenAPI schema and docs, served offline."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from planning.api.urls import router as planning_router
from stations.api import router as stations_router
from targets.api.urls import router as targets_router

router = DefaultRouter(trailing_slash=True)
for app_router in (planning_router, targets_router, stations_router):
    router.registry.extend(app_router.registry)

urlpatterns = [
    path("v1/exports/", include("reports.excel.api")),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api_schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api_schema", permission_classes=[AllowAny]),
        name="api_docs",
    ),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api_schema", permission_classes=[AllowAny]),
        name="api_redoc",
    ),
]
