import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError

from shared_resource.models import Document, JobStatus, ProviderCall, SummaryJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return get_user_model().objects.create(username="ada")


def make_job(user, title="t"):
    document = Document.objects.create(owner=user, title=title, text="Some text.")
    return SummaryJob.objects.create(document=document)


def test_a_new_job_is_queued_with_no_attempts(user):
    job = make_job(user)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    assert job.attempts == 0
    assert job.started is None and job.finished is None
    assert not job.is_terminal


def test_documents_list_newest_first(user):
    first = Document.objects.create(owner=user, title="first", text="a")
    second = Document.objects.create(owner=user, title="second", text="b")
    assert list(Document.objects.filter(owner=user)) == [second, first]


def test_a_job_belongs_to_exactly_one_document(user):
    job = make_job(user)
    with pytest.raises(IntegrityError):
        SummaryJob.objects.create(document=job.document)


def test_one_provider_call_per_attempt(user):
    job = make_job(user)
    ProviderCall.objects.create(job=job, attempt=1, provider="p")
    with pytest.raises(IntegrityError):
        ProviderCall.objects.create(job=job, attempt=1, provider="p")


def test_deleting_a_document_deletes_its_job_and_calls(user):
    job = make_job(user)
    ProviderCall.objects.create(job=job, attempt=1, provider="p")
    job.document.delete()
    assert not SummaryJob.objects.exists()
    assert not ProviderCall.objects.exists()
