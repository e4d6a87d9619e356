import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from shared_resource.models import Document, SummaryJob
from summaries.providers import get_provider
from tests.fake_llm import FakeOpenAI

TEXT = (
    "The worker summarises documents. It reads them through the ORM. "
    "Transient errors are retried with backoff. Permanent errors fail the job at once. "
    "Every provider call is recorded."
)


@pytest.fixture(scope="session", autouse=True)
def end_worker_sessions(django_db_setup, django_db_blocker):
    """Test workers keep their connection across tasks, as deployed ones do (in a thread
    here, out of reach): end those sessions before the test database is dropped."""
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def make_job(db):
    def make(text: str = TEXT, title: str = "A title") -> SummaryJob:
        owner, _ = get_user_model().objects.get_or_create(username="ada")
        document = Document.objects.create(owner=owner, title=title, text=text)
        return SummaryJob.objects.create(document=document)

    return make


@pytest.fixture
def fake_openai():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def use_openai(settings, fake_openai):
    """Configure the openai provider against the loopback fake."""
    settings.DUET_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = fake_openai.base_url
    settings.OPENAI_API_KEY = "sk-test-secret"
    settings.DUET_OPENAI_MODEL = "fake-model"
    settings.DUET_PROVIDER_TIMEOUT = 0.5
    get_provider.cache_clear()
    yield fake_openai
    get_provider.cache_clear()


@pytest.fixture(autouse=True)
def fresh_provider():
    get_provider.cache_clear()
    yield
    get_provider.cache_clear()
