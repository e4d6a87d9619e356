"""/metrics: off without a token, a bearer token otherwise, numbers read from the database."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from shared_resource.models import Document, ProviderCall, SummaryJob

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests"


def scrape(client, token=TOKEN):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def make_job(status, created_ago=0.0):
    owner, _ = get_user_model().objects.get_or_create(username="ada")
    document = Document.objects.create(owner=owner, title="t", text="x")
    return SummaryJob.objects.create(
        document=document,
        status=status,
        created=timezone.now() - timedelta(seconds=created_ago),
    )


def call(job, attempt, outcome, seconds, provider="openai"):
    started = timezone.now() - timedelta(seconds=60)
    return ProviderCall.objects.create(
        job=job,
        attempt=attempt,
        provider=provider,
        outcome=outcome,
        started=started,
        finished=None if outcome == "" else started + timedelta(seconds=seconds),
    )


@override_settings(DUET_METRICS_TOKEN="")
def test_metrics_are_off_without_a_token(client):
    assert client.get("/metrics").status_code == 404


@override_settings(DUET_METRICS_TOKEN=TOKEN)
@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Token {TOKEN}", "Bearer"])
def test_metrics_need_the_bearer_token(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@override_settings(DUET_METRICS_TOKEN=TOKEN)
def test_job_and_provider_figures_are_those_of_the_database(client):
    for _ in range(3):
        make_job("succeeded")
    failed = make_job("failed")
    make_job("queued", created_ago=120)
    make_job("queued", created_ago=5)
    done = SummaryJob.objects.filter(status="succeeded")
    call(done[0], 1, "ok", 0.2)
    call(done[1], 1, "transient", 3.0)
    call(done[1], 2, "ok", 0.4)
    call(done[2], 1, "ok", 0.05, provider="extractive")
    call(failed, 1, "permanent", 40.0)
    call(make_job("running"), 1, "", 0)  # in flight: not counted yet

    m = scrape(client)
    jobs = {s: m[("duet_jobs", (("status", s),))] for s in ("queued", "running", "succeeded")}
    assert jobs == {"queued": 2, "running": 1, "succeeded": 3}
    assert m[("duet_jobs", (("status", "failed"),))] == 1
    assert 120 <= m[("duet_oldest_queued_job_age_seconds", ())] < 180
    calls = {
        labels: value for (name, labels), value in m.items() if name == "duet_provider_calls_total"
    }
    assert calls == {
        (("outcome", "ok"), ("provider", "openai")): 2,
        (("outcome", "transient"), ("provider", "openai")): 1,
        (("outcome", "permanent"), ("provider", "openai")): 1,
        (("outcome", "ok"), ("provider", "extractive")): 1,
    }

    def bucket(le, provider="openai"):
        key = (("le", le), ("provider", provider))
        return m[("duet_provider_call_duration_seconds_bucket", key)]

    assert (bucket("0.25"), bucket("0.5"), bucket("5.0"), bucket("30.0"), bucket("+Inf")) == (
        1,
        2,
        3,
        3,
        4,
    )
    assert bucket("0.1", "extractive") == 1
    openai = (("provider", "openai"),)
    assert m[("duet_provider_call_duration_seconds_count", openai)] == 4
    assert m[("duet_provider_call_duration_seconds_sum", openai)] == pytest.approx(43.6)


@override_settings(DUET_METRICS_TOKEN=TOKEN)
def test_no_queued_job_means_age_zero_and_http_answers_are_counted(client):
    make_job("succeeded")
    client.get("/api/health/")
    m = scrape(client)
    assert m[("duet_oldest_queued_job_age_seconds", ())] == 0
    health = [
        value
        for (name, labels), value in m.items()
        if name == "duet_http_requests_total" and ("route", "api/health/") in labels
    ]
    assert sum(health) >= 1
