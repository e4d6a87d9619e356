"""URL configuration: the API under /api/, its schema, and the health check."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from .health import health

urlpatterns = [
    path("api/", include("documents.urls")),
    path("api/health/", health, name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
]
