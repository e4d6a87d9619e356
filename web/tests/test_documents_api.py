"""The documents API: 202 + Location, owner isolation, pagination and bad input."""

import time
import uuid

import pytest
from django.test import override_settings

from shared_resource.contract import REQUEST_ID_HEADER, SUMMARISE_TASK
from shared_resource.models import Document, JobStatus, SummaryJob

from .conftest import broker_outage

pytestmark = pytest.mark.django_db

TEXT = "Duet summarises documents. It has a web service. It also has a worker."


def submit(api, django_capture_on_commit_callbacks, **body):
    with django_capture_on_commit_callbacks(execute=True):
        return api.post("/api/documents/", {"title": "t", "text": TEXT, **body}, format="json")


def test_create_answers_202_with_location_and_publishes_on_commit(
    api, user, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post("/api/documents/", {"title": "Hi", "text": TEXT}, format="json")
        # Nothing reaches the broker before the transaction commits.
        assert broker.messages() == []
    assert response.status_code == 202
    job = SummaryJob.objects.get()
    assert job.document.owner == user and job.document.text == TEXT
    assert job.status == JobStatus.QUEUED
    assert response["Location"] == f"http://testserver/api/jobs/{job.id}/"
    assert response["Retry-After"] == "1"
    assert response.json()["id"] == str(job.id)
    assert response.json()["status"] == "queued"

    assert len(callbacks) == 1
    callbacks[0]()
    assert broker.messages() == [
        {"task": SUMMARISE_TASK, "id": str(job.id), "args": [], "kwargs": {"job_id": str(job.id)}}
    ]


def test_location_shows_status_result_error_and_timestamps(
    api, broker, django_capture_on_commit_callbacks
):
    location = submit(api, django_capture_on_commit_callbacks)["Location"]
    job = SummaryJob.objects.get()
    job.status, job.summary, job.provider, job.model = "succeeded", "Short.", "extractive", "m"
    job.save()
    body = api.get(location).json()
    assert body["status"] == "succeeded"
    assert body["summary"] == "Short."
    assert body["error"] == ""
    assert {"created", "started", "finished", "attempts", "provider", "model"} <= body.keys()


def test_a_broker_outage_still_answers_202_and_leaves_the_job_queued(
    api, broker, django_capture_on_commit_callbacks, caplog
):
    started = time.monotonic()
    with broker_outage():
        response = submit(api, django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 5, "the request waited on the broker"
    assert response.status_code == 202
    job = SummaryJob.objects.get()
    assert job.status == JobStatus.QUEUED
    assert f"could not publish job {job.id}" in caplog.text
    assert broker.messages() == []


def test_list_shows_only_the_owners_documents(
    api, other_api, broker, django_capture_on_commit_callbacks
):
    submit(api, django_capture_on_commit_callbacks, title="mine")
    submit(other_api, django_capture_on_commit_callbacks, title="theirs")
    titles = [doc["title"] for doc in api.get("/api/documents/").json()["results"]]
    assert titles == ["mine"]


def test_another_users_ids_answer_404(api, other_api, broker, django_capture_on_commit_callbacks):
    location = submit(api, django_capture_on_commit_callbacks)["Location"]
    document = Document.objects.get()
    assert other_api.get(location).status_code == 404
    assert other_api.get(f"/api/documents/{document.id}/").status_code == 404
    assert api.get(location).status_code == 200
    assert api.get(f"/api/documents/{document.id}/").json()["text"] == TEXT


@pytest.mark.parametrize(
    "path",
    [
        f"/api/jobs/{uuid.uuid4()}/",
        "/api/jobs/not-a-uuid-at-all-but-long-enough-to-match/",
        "/api/documents/99999999999999999999999/",
        "/api/documents/0/",
        "/api/documents/abc/",
    ],
)
def test_unknown_or_malformed_ids_answer_404(api, path):
    assert api.get(path).status_code == 404


def test_list_is_cursor_paginated_newest_first(api, user):
    for i in range(25):
        document = Document.objects.create(owner=user, title=f"doc {i:02}", text="x")
        SummaryJob.objects.create(document=document)
    first = api.get("/api/documents/").json()
    assert [d["title"] for d in first["results"]][:2] == ["doc 24", "doc 23"]
    assert len(first["results"]) == 20 and first["previous"] is None
    second = api.get(first["next"]).json()
    titles = [d["title"] for d in first["results"] + second["results"]]
    assert len(titles) == 25 == len(set(titles))
    assert second["next"] is None
    assert len(api.get("/api/documents/?page_size=5").json()["results"]) == 5
    assert len(api.get("/api/documents/?page_size=100").json()["results"]) == 25


@pytest.mark.parametrize("size", ["0", "101", "-1", "ten", ""])
def test_an_out_of_range_page_size_is_400(api, size):
    response = api.get(f"/api/documents/?page_size={size}")
    assert response.status_code == 400
    assert "page_size" in response.json()


def test_a_bad_cursor_is_a_404_not_a_500(api):
    assert api.get("/api/documents/?cursor=garbage").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "t", "text": ""}, "text"),
        ({"title": "t", "text": "   \n "}, "text"),
        ({"title": "", "text": TEXT}, "title"),
        ({"title": "t" * 201, "text": TEXT}, "title"),
        ({"title": " " + "t" * 200, "text": TEXT}, "title"),
        ({"text": TEXT}, "title"),
        ({"title": "t"}, "text"),
        ({"title": "t", "text": 12}, "text"),
        ({"title": 3.5, "text": TEXT}, "title"),
        ({"title": True, "text": TEXT}, "title"),
        ({"title": "t", "text": ["a"]}, "text"),
        ({"title": "t", "text": {"a": 1}}, "text"),
        ({"title": "t", "text": None}, "text"),
        ({"title": "t", "text": "nul\x00byte"}, "text"),
    ],
)
def test_bad_fields_get_400_with_field_messages(api, body, field):
    response = api.post("/api/documents/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not SummaryJob.objects.exists()


def test_a_lone_surrogate_gets_400_not_a_database_error(api):
    # Valid JSON, but PostgreSQL cannot store it; the test client cannot even encode it.
    raw = b'{"title": "t", "text": "lone \\ud800 surrogate"}'
    response = api.generic("POST", "/api/documents/", raw, content_type="application/json")
    assert response.status_code == 400
    assert "surrogate" in response.json()["text"][0]


@override_settings(DUET_MAX_TEXT_CHARS=50)
def test_text_over_the_documented_limit_is_rejected(api):
    response = api.post("/api/documents/", {"title": "t", "text": "a" * 51}, format="json")
    assert response.status_code == 400
    assert "50" in response.json()["text"][0]
    ok = api.post("/api/documents/", {"title": "t", "text": "a" * 50}, format="json")
    assert ok.status_code == 202


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"just a string"', "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"title=t&text=x", "text/plain"),
        (b"title=t&text=x", "application/x-www-form-urlencoded"),
    ],
)
def test_bodies_that_are_not_a_json_object_get_4xx(api, raw, content_type):
    response = api.generic("POST", "/api/documents/", raw, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert not SummaryJob.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_an_oversized_body_gets_413(api):
    response = api.post("/api/documents/", {"title": "t", "text": "a" * 2000}, format="json")
    assert response.status_code == 413
    assert "1000 bytes" in response.json()["detail"]


@pytest.mark.parametrize("header", [None, "Token wrong", "Bearer x", "Token"])
def test_a_missing_or_bad_token_gets_401(client, header):
    headers = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post(
        "/api/documents/", {"title": "t", "text": TEXT}, content_type="application/json", **headers
    )
    assert response.status_code == 401
    assert "WWW-Authenticate" in response
    assert client.get("/api/documents/", **headers).status_code == 401


@pytest.mark.parametrize(
    "cursor",
    [
        "cD1ub3RhZGF0ZQ==",  # base64 of "p=notadate": decodes, but is no timestamp
        "cD0yMDI2LTEzLTQwVDAwOjAwOjAw",  # "p=2026-13-40T00:00:00": a timestamp that can't be
    ],
)
def test_a_crafted_cursor_is_a_404_not_a_500(api, user, cursor):
    Document.objects.create(owner=user, title="t", text="x")
    assert api.get(f"/api/documents/?cursor={cursor}").status_code == 404


def test_deeply_nested_json_is_a_400_not_a_500(api):
    raw = b"[" * 5000 + b"]" * 5000
    response = api.generic("POST", "/api/documents/", raw, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_the_request_id_travels_as_a_message_header_not_in_the_payload(
    api, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/documents/",
            {"title": "t", "text": TEXT},
            format="json",
            headers={"X-Request-ID": "req-42"},
        )
    assert response["X-Request-ID"] == "req-42"
    [headers] = broker.headers()
    assert headers[REQUEST_ID_HEADER] == "req-42"
    assert broker.messages()[0]["kwargs"] == {"job_id": response.json()["id"]}
