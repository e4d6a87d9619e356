"""Prometheus metrics at ``/metrics`` (prometheus_client), off unless DUET_METRICS_TOKEN is set.

Job and provider figures are read from the database at each scrape, so they are right with
any number of web and worker processes (no multiprocess directory to share). The HTTP
figures are those of the process that answers the scrape.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q, Sum
from django.db.models.functions import Now
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from shared_resource.connections import reconnecting
from shared_resource.models import JobStatus, ProviderCall, SummaryJob

#: Upper bounds, in seconds, of the provider call duration histogram.
PROVIDER_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class DatabaseCollector(Collector):
    """Jobs and provider calls, counted in PostgreSQL at each scrape."""

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("duet_jobs", "Summary jobs by status.", labels=["status"])
        counts = dict(SummaryJob.objects.values_list("status").annotate(n=Count("id")).order_by())
        for status in JobStatus.values:
            jobs.add_metric([status], counts.get(status, 0))
        yield jobs

        age = SummaryJob.objects.filter(status=JobStatus.QUEUED).aggregate(
            age=Max(ExpressionWrapper(Now() - F("created"), output_field=DurationField()))
        )["age"]
        yield GaugeMetricFamily(
            "duet_oldest_queued_job_age_seconds",
            "Age of the oldest queued job (0 when none is queued).",
            value=age.total_seconds() if age else 0.0,
        )

        calls = CounterMetricFamily(
            "duet_provider_calls",
            "Finished provider calls by provider and outcome.",
            labels=["provider", "outcome"],
        )
        finished = ProviderCall.objects.exclude(outcome="").filter(finished__isnull=False)
        for provider, outcome, n in (
            finished.values_list("provider", "outcome").annotate(n=Count("id")).order_by()
        ):
            calls.add_metric([provider, outcome], n)
        yield calls

        duration = ExpressionWrapper(F("finished") - F("started"), output_field=DurationField())
        per_bucket = {
            f"le{i}": Count("id", filter=Q(duration__lte=timedelta(seconds=bound)))
            for i, bound in enumerate(PROVIDER_BUCKETS)
        }
        histogram = HistogramMetricFamily(
            "duet_provider_call_duration_seconds",
            "Duration of finished provider calls.",
            labels=["provider"],
        )
        rows = (
            finished.annotate(duration=duration)
            .values("provider")
            .annotate(total=Count("id"), seconds=Sum("duration"), **per_bucket)
            .order_by("provider")
        )
        for row in rows:
            # The le<i> keys come from **per_bucket, which the stubs' row type cannot see.
            buckets = [(str(b), row[f"le{i}"]) for i, b in enumerate(PROVIDER_BUCKETS)]  # type: ignore[literal-required]
            buckets.append(("+Inf", row["total"]))
            seconds = row["seconds"].total_seconds() if row["seconds"] else 0.0
            histogram.add_metric([row["provider"]], buckets, sum_value=seconds)
        yield histogram


# No describe(): registering must not query the database (it happens at import).
REGISTRY = CollectorRegistry()
REGISTRY.register(DatabaseCollector())
HTTP_REQUESTS = Counter(
    "duet_http_requests",
    "HTTP requests answered by this process.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "duet_http_request_duration_seconds",
    "Time this process took to answer, by route.",
    ["method", "route"],
    registry=REGISTRY,
)


def route_of(request: HttpRequest) -> str:
    """The URL pattern, not the path: ids must not become label values."""
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else "unmatched"


class HttpMetricsMiddleware:
    """Counts and times every answer of this process."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        HTTP_LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        return response


def metrics(request: HttpRequest) -> HttpResponse:
    """The metrics, for a scraper that sends ``Authorization: Bearer <DUET_METRICS_TOKEN>``."""
    token = settings.DUET_METRICS_TOKEN
    if not token:
        return HttpResponse("Not found.\n", status=404, content_type="text/plain")
    offered = request.headers.get("Authorization", "")
    scheme, _, credentials = offered.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        credentials.strip().encode(), token.encode()
    ):
        response = HttpResponse(
            "A bearer token is required.\n", status=401, content_type="text/plain"
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    # The collector's queries are this request's first: they check the kept connection.
    body = reconnecting(lambda: generate_latest(REGISTRY))
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
