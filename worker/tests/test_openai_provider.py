"""The OpenAI-compatible provider against a real HTTP server on loopback."""

import re

import pytest

from summaries.providers import PermanentProviderError, TransientProviderError
from summaries.providers.openai_compatible import OpenAICompatibleProvider
from tests.fake_llm import Reply


@pytest.fixture
def provider(fake_openai):
    return OpenAICompatibleProvider(
        base_url=fake_openai.base_url, api_key="sk-test", model="fake-model", timeout=0.5
    )


def test_a_completion_becomes_the_summary(provider, fake_openai):
    fake_openai.replies = [Reply(content="  Bees dance to share food locations.  ")]
    summary = provider.summarise(title="Bees", text="Long text about bees.")
    assert summary.text == "Bees dance to share food locations."
    assert summary.model == "fake-model"
    request = fake_openai.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == "Bearer sk-test"
    assert request["json"]["model"] == "fake-model"
    assert "Long text about bees." in request["json"]["messages"][-1]["content"]


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503])
def test_retryable_statuses_are_transient(provider, fake_openai, status):
    fake_openai.replies = [Reply(status=status)]
    with pytest.raises(TransientProviderError, match=f"answered {status}"):
        provider.summarise(title="t", text="x")
    assert len(fake_openai.requests) == 1  # the SDK itself never retries


def test_retry_after_is_read_from_the_response(provider, fake_openai):
    fake_openai.replies = [Reply(status=429, headers={"Retry-After": "7"})]
    with pytest.raises(TransientProviderError) as caught:
        provider.summarise(title="t", text="x")
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_errors_are_permanent_with_the_servers_message(provider, fake_openai, status):
    fake_openai.replies = [Reply(status=status)]
    with pytest.raises(
        PermanentProviderError, match=re.escape(f"answered {status}: scripted {status}")
    ):
        provider.summarise(title="t", text="x")


def test_a_slow_server_is_a_transient_timeout(provider, fake_openai):
    fake_openai.replies = [Reply(delay=1.5)]
    with pytest.raises(TransientProviderError, match=re.escape("did not answer within 0.5 s")):
        provider.summarise(title="t", text="x")


def test_an_unreachable_server_is_transient():
    provider = OpenAICompatibleProvider(
        base_url="http://127.0.0.1:1/v1", api_key="k", model="m", timeout=0.5
    )
    with pytest.raises(TransientProviderError, match="could not reach the provider"):
        provider.summarise(title="t", text="x")


def test_an_empty_completion_is_permanent(provider, fake_openai):
    fake_openai.replies = [Reply(content="   ")]
    with pytest.raises(PermanentProviderError, match="empty summary"):
        provider.summarise(title="t", text="x")


def test_the_api_key_never_appears_in_an_error(fake_openai):
    provider = OpenAICompatibleProvider(
        base_url=fake_openai.base_url, api_key="sk-very-secret", model="m", timeout=0.5
    )
    for reply in (Reply(status=401), Reply(status=500), Reply(delay=1.5)):
        fake_openai.replies = [reply]
        with pytest.raises(Exception) as caught:
            provider.summarise(title="t", text="x")
        assert "sk-very-secret" not in str(caught.value)


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_keep_the_servers_words_out_of_the_job(provider, fake_openai, status):
    fake_openai.replies = [Reply(status=status)]
    with pytest.raises(PermanentProviderError) as caught:
        provider.summarise(title="t", text="x")
    assert str(caught.value) == f"the provider refused the worker's credentials ({status})"
    assert f"scripted {status}" in caught.value.detail
