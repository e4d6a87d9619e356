"""/metrics scraped from the real gunicorn after a round trip, checked against the database."""

from collections import Counter

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from .test_roundtrip import submit, wait_status


def scrape(stack, token):
    headers = {"Authorization": f"Bearer {token}"}
    reply = requests.get(f"{stack.base_url}/metrics", headers=headers, timeout=30)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/plain")
    return [s for family in text_string_to_metric_families(reply.text) for s in family.samples]


def database_figures(stack):
    jobs = dict(stack.sql("SELECT status, count(*) FROM common_summaryjob GROUP BY status"))
    calls = {
        (provider, outcome): int(n)
        for provider, outcome, n in stack.sql(
            "SELECT provider, outcome, count(*) FROM common_providercall "
            "WHERE outcome <> '' AND finished IS NOT NULL GROUP BY provider, outcome"
        )
    }
    return {status: int(n) for status, n in jobs.items()}, calls


def test_scraped_figures_match_the_database_after_a_round_trip(stack, token, metrics_token):
    job = submit(stack, token)
    assert wait_status(stack, token, job)["status"] == "succeeded"
    # Other tests' jobs may still move: compare a scrape taken between two equal readings.
    for _ in range(20):
        before = database_figures(stack)
        samples = scrape(stack, metrics_token)
        if database_figures(stack) == before:
            break
    else:
        pytest.fail("the database never held still for a scrape")
    jobs, calls = before
    scraped_jobs = {s.labels["status"]: s.value for s in samples if s.name == "duet_jobs"}
    assert scraped_jobs == {
        status: jobs.get(status, 0) for status in ("queued", "running", "succeeded", "failed")
    }
    assert scraped_jobs["succeeded"] >= 1
    scraped_calls = {
        (s.labels["provider"], s.labels["outcome"]): s.value
        for s in samples
        if s.name == "duet_provider_calls_total"
    }
    assert scraped_calls == calls
    counts = {
        s.labels["provider"]: s.value
        for s in samples
        if s.name == "duet_provider_call_duration_seconds_count"
    }
    per_provider: Counter[str] = Counter()
    for (provider, _), n in calls.items():
        per_provider[provider] += n
    assert counts == per_provider
    [age] = [s.value for s in samples if s.name == "duet_oldest_queued_job_age_seconds"]
    assert age >= 0 and (age > 0) == (jobs.get("queued", 0) > 0)


def test_http_figures_are_those_of_the_answering_process(stack, metrics_token):
    # Three scrapes over two gunicorn processes: one process answers twice, and its
    # second answer counts its first.
    seen = []
    for _ in range(3):
        mine = [s for s in scrape(stack, metrics_token) if s.labels.get("route") == "metrics"]
        seen.append(sum(s.value for s in mine if s.name == "duet_http_requests_total"))
        latency = [s.value for s in mine if s.name == "duet_http_request_duration_seconds_count"]
        assert sum(latency) == seen[-1]
    assert max(seen) >= 1


def test_metrics_refuse_a_missing_or_wrong_token(stack):
    for header in ({}, {"Authorization": "Bearer wrong"}):
        assert requests.get(f"{stack.base_url}/metrics", headers=header).status_code == 401
