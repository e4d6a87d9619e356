"""Idempotency-Key: a retried POST gets the original job back, never a second one."""

import pytest

from shared_resource.models import Document, SummaryJob

pytestmark = pytest.mark.django_db

BODY = {"title": "t", "text": "Retries happen. Networks drop answers."}


def post(api, body=BODY, key="retry-me-1"):
    return api.post("/api/documents/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_with_the_same_key_returns_the_original_job(api, broker):
    first = post(api)
    again = post(api)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Document.objects.count() == SummaryJob.objects.count() == 1


def test_a_key_reused_for_another_document_is_422(api, broker):
    post(api)
    response = post(api, {**BODY, "text": "Something else entirely."})
    assert response.status_code == 422
    assert "already used" in response.json()["detail"]
    assert Document.objects.count() == 1


def test_keys_are_per_user(api, other_api, broker):
    assert post(api).json()["id"] != post(other_api).json()["id"]
    assert Document.objects.count() == 2


def test_without_a_key_every_post_creates_a_job(api, broker):
    api.post("/api/documents/", BODY, format="json")
    api.post("/api/documents/", BODY, format="json")
    assert SummaryJob.objects.count() == 2


@pytest.mark.parametrize("key", ["", "   ", "é-not-ascii", "x" * 256, "tab\there", " lead"])
def test_a_malformed_key_is_400(api, key):
    response = post(api, key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Document.objects.exists()
