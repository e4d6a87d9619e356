"""Summaries from any OpenAI-compatible chat-completions server.

Works with OpenAI itself and with vLLM (``.../v1``), Ollama (``http://host:11434/v1``, any
key) and llama.cpp's ``llama-server``. The SDK's own retries are switched off
(``max_retries=0``): retrying is the task's job, with a bounded backoff recorded on the job
row, so SDK retries never multiply with Celery's.
"""

from __future__ import annotations

import openai

from .base import PermanentProviderError, Summary, TransientProviderError

SYSTEM_PROMPT = (
    "You summarise documents. Reply with a faithful summary of the user's document in at "
    "most three sentences, in the document's language, and nothing else."
)

# 408 Request Timeout, 409 Conflict (OpenAI's own "retry" signal) and 429 Too Many Requests
# are worth retrying; so is every 5xx. Other 4xx are the request's fault.
TRANSIENT_STATUSES = frozenset({408, 409, 429})


def retry_after_seconds(headers: object) -> float | None:
    """Read ``retry-after-ms`` or ``retry-after`` (seconds) from response headers."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            return str(message)[:500]
    return exc.message[:500]


class OpenAICompatibleProvider:
    name = "openai"

    def __init__(self, *, base_url: str, api_key: str, model: str, timeout: float) -> None:
        self.model = model
        self.timeout = timeout
        self.client = openai.OpenAI(
            base_url=base_url,
            # Local servers (Ollama, llama.cpp without --api-key) need a key that is
            # "required but ignored"; a real server then answers 401, a permanent error.
            api_key=api_key or "no-key",
            timeout=timeout,
            max_retries=0,
        )

    def summarise(self, *, title: str, text: str) -> Summary:
        try:
            completion = self.client.chat.completions.create(
                model=self.model,
                temperature=0,
                messages=[
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": f"Title: {title}\n\n{text}"},
                ],
            )
        except openai.APITimeoutError:
            raise TransientProviderError(
                f"the provider did not answer within {self.timeout:g} s"
            ) from None
        except openai.APIConnectionError as exc:
            raise TransientProviderError(f"could not reach the provider: {exc}") from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            message = f"the provider answered {status}: {_detail(exc)}"
            if status in TRANSIENT_STATUSES or status >= 500:
                raise TransientProviderError(
                    message, retry_after=retry_after_seconds(exc.response.headers)
                ) from None
            if status in (401, 403):
                # The body may quote part of the key: the job's owner sees only this.
                raise PermanentProviderError(
                    f"the provider refused the worker's credentials ({status})", detail=message
                ) from None
            raise PermanentProviderError(message) from None
        except openai.APIResponseValidationError as exc:
            raise PermanentProviderError(f"the provider's answer was malformed: {exc}") from None
        choices = completion.choices or []
        content = (choices[0].message.content or "").strip() if choices else ""
        if not content:
            raise PermanentProviderError("the provider returned an empty summary")
        return Summary(text=content, model=completion.model or self.model)
