"""URL configuration: the API under /api/, its schema and docs, health, and metrics."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .docs import RedocView
from .health import health
from .metrics import metrics

urlpatterns = [
    path("api/", include("documents.urls")),
    path("api/health/", health, name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("metrics", metrics, name="metrics"),
]

handler400 = "duet_web.errors.bad_request"
handler403 = "duet_web.errors.permission_denied"
handler404 = "duet_web.errors.not_found"
handler500 = "duet_web.errors.server_error"
