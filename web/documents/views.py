"""Views: create documents (202 + Location), list and read them, poll jobs.

Every queryset is filtered to the requesting user, so another user's ids answer 404 on
list, detail and every action alike, without revealing that they exist.
"""

from typing import cast

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from shared_resource.models import Document, SummaryJob

from . import submit
from .idempotency import (
    HEADER,
    MAX_LENGTH,
    PATTERN,
    IdempotencyKeyReused,
    idempotency_key,
)
from .publish import publish_on_commit
from .serializers import (
    DocumentCreateSerializer,
    DocumentDetailSerializer,
    DocumentSerializer,
    JobSerializer,
)
from .throttling import CountedTogether, SubmitRateThrottle

# Seconds a client should wait before its first poll (RFC 9110 Retry-After).
POLL_AFTER_SECONDS = 1


def user_of(request: Request) -> User:
    """The requesting user, typed as one: IsAuthenticated runs first, never anonymous."""
    return cast(User, request.user)


class DocumentViewSet(
    CountedTogether,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    # Ids PostgreSQL's bigint can hold; anything else is a 404 by URL, not a database error.
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[Document]:
        if getattr(self, "swagger_fake_view", False):
            # Schema generation (drf-spectacular) only needs the model: no request.user, so
            # no authentication and no anonymous throttle count for its mock requests.
            return Document.objects.none()
        return Document.objects.filter(owner=user_of(self.request)).select_related("summary_job")

    def get_throttles(self) -> list:
        throttles = super().get_throttles()
        if self.action == "create":
            throttles.append(SubmitRateThrottle())
        return throttles

    def get_serializer_class(self) -> type:
        return {
            "create": DocumentCreateSerializer,
            "retrieve": DocumentDetailSerializer,
        }.get(self.action, DocumentSerializer)

    @extend_schema(
        request=DocumentCreateSerializer,
        parameters=[
            OpenApiParameter(
                HEADER,
                {"type": "string", "pattern": PATTERN, "minLength": 1, "maxLength": MAX_LENGTH},
                OpenApiParameter.HEADER,
                description="Retrying a POST with the same key returns the original job "
                "instead of creating another (1 to 255 printable ASCII characters).",
            )
        ],
        responses={202: OpenApiResponse(JobSerializer, description="Job accepted; poll its url.")},
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        """Store the document and its job in one transaction; publish the job on commit."""
        key = idempotency_key(request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if key is not None:
            existing = Document.objects.filter(owner=user_of(request), idempotency_key=key).first()
            if existing is not None:
                return self._replay(existing, serializer.validated_data)
        document = Document(
            owner=user_of(request), idempotency_key=key, **serializer.validated_data
        )
        try:
            # Both rows in one statement (documents/submit.py). Until the lease ends the
            # broker holds the job; after it, the sweeper publishes it again.
            job = submit.create(document, SummaryJob(), settings.DUET_SWEEP_STALE_SECONDS)
        except IntegrityError:
            if key is None:
                raise
            # A concurrent request with the same key won the race: answer as its replay.
            document = Document.objects.get(owner=user_of(request), idempotency_key=key)
            return self._replay(document, serializer.validated_data)
        publish_on_commit(job.id)
        return self._accepted(job)

    def _accepted(self, job: SummaryJob, **headers: str) -> Response:
        location = reverse("job-detail", args=[job.id], request=self.request)
        body = JobSerializer(job, context=self.get_serializer_context()).data
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": location, "Retry-After": str(POLL_AFTER_SECONDS), **headers},
        )

    def _replay(self, document: Document, data: dict[str, str]) -> Response:
        """Answer a retried POST with the job it created the first time."""
        if (document.title, document.text) != (data["title"], data["text"]):
            raise IdempotencyKeyReused()
        return self._accepted(document.summary_job, **{"Idempotent-Replayed": "true"})


class JobViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = JobSerializer
    lookup_value_regex = r"[0-9a-fA-F-]{32,36}"

    def get_queryset(self) -> QuerySet[SummaryJob]:
        if getattr(self, "swagger_fake_view", False):
            return SummaryJob.objects.none()
        return SummaryJob.objects.filter(document__owner=user_of(self.request))
