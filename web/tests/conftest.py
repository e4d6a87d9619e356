import json
import os
from base64 import b64decode
from contextlib import contextmanager

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from api_tokens.models import ApiToken
from shared_resource.contract import QUEUE


@pytest.fixture
def user(db):
    return get_user_model().objects.create(username="ada")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create(username="grace")


def client_for(user, **mint):
    """An API client authenticated with a freshly minted token of ``user``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.objects.mint(user, **mint)[1]}")
    return client


@pytest.fixture
def api(user):
    return client_for(user)


@pytest.fixture
def other_api(other_user):
    return client_for(other_user)


class Broker:
    """The real Redis broker the web publishes to, read the way a worker would."""

    def __init__(self) -> None:
        self.redis = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    def clear(self) -> None:
        self.redis.delete(QUEUE)

    def messages(self) -> list[dict]:
        found = []
        for raw in self.redis.lrange(QUEUE, 0, -1):
            message = json.loads(raw)
            args, kwargs, _ = json.loads(b64decode(message["body"]))
            found.append(
                {
                    "task": message["headers"]["task"],
                    "id": message["headers"]["id"],
                    "args": args,
                    "kwargs": kwargs,
                }
            )
        return found

    def headers(self) -> list[dict]:
        """Each message's headers (the payload contract aside)."""
        return [json.loads(raw)["headers"] for raw in self.redis.lrange(QUEUE, 0, -1)]


@pytest.fixture
def broker():
    broker = Broker()
    broker.clear()
    yield broker
    broker.clear()


@contextmanager
def broker_outage():
    """Point the web's Celery app at a port where nothing listens.

    Celery reads CELERY_BROKER_URL from the environment before its configuration, and keeps
    connection and producer pools bound to the old URL, so all three are swapped.
    """
    from duet_web.celery import app

    def rebind(url: str | None) -> None:
        if url is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = url
        app.conf.broker_url = url or settings.CELERY_BROKER_URL
        app._pool = None
        app.amqp._producer_pool = None

    saved = os.environ.get("CELERY_BROKER_URL")
    rebind("redis://127.0.0.1:1/0")
    try:
        yield
    finally:
        rebind(saved)
