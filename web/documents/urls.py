"""API routes."""

from rest_framework.routers import SimpleRouter

from .views import DocumentViewSet, JobViewSet

router = SimpleRouter()
router.register("documents", DocumentViewSet, basename="document")
router.register("jobs", JobViewSet, basename="job")

urlpatterns = router.urls
