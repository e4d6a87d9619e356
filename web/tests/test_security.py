"""Deployment checks, HTTPS behind the proxy, no cookie authentication, anonymous throttling."""

import os
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.settings import api_settings

from api_tokens.authentication import ApiTokenAuthentication
from api_tokens.models import ApiToken
from documents.throttling import AnonymousThrottle

from .test_settings import WEB, load_settings

pytestmark = pytest.mark.django_db

PRODUCTION = {
    "DUET_ENV": "production",
    "DJANGO_SECRET_KEY": "k3T9-vQ2_xL7pR4zW8mN1bY6cF0hJ5sD2gA9eU3iO7tK4wX8qZ1",
    "DJANGO_ALLOWED_HOSTS": "duet.example.org",
    # Nothing listens there: a check that touched the cache would log a warning.
    "CACHE_URL": "redis://127.0.0.1:1/1",
}


def check_deploy(**extra: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DUET_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={**base, **PRODUCTION, **extra},
        cwd=WEB,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("behind_proxy", ["false", "true"])
def test_check_deploy_is_clean_in_production(behind_proxy):
    result = check_deploy(DUET_BEHIND_TLS_PROXY=behind_proxy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (" in result.stdout
    # Schema generation's mock requests authenticate nobody, so nothing is counted.
    assert result.stderr == ""


def test_check_deploy_still_reports_what_the_operator_turned_off():
    result = check_deploy(DUET_BEHIND_TLS_PROXY="true", DUET_HSTS_SECONDS="0")
    assert result.returncode != 0
    assert "security.W004" in result.stderr
    weak_key = check_deploy(DJANGO_SECRET_KEY="short")
    assert weak_key.returncode != 0 and "security.W009" in weak_key.stderr


def test_behind_the_proxy_https_is_enforced_but_health_is_exempt():
    result = load_settings(
        {**PRODUCTION, "DUET_BEHIND_TLS_PROXY": "true"},
        "(settings.SECURE_SSL_REDIRECT, settings.SECURE_REDIRECT_EXEMPT, "
        "settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "settings.SECURE_HSTS_PRELOAD, settings.REST_FRAMEWORK['NUM_PROXIES'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(True, ['^api/health/$'], 31536000, True, False, 1)"


def test_plain_production_trusts_no_forwarded_header():
    result = load_settings(
        PRODUCTION,
        "(settings.REST_FRAMEWORK['NUM_PROXIES'], "
        "getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))",
    )
    assert result.stdout.strip() == "(0, None)"
    refused = load_settings({**PRODUCTION, "DUET_NUM_PROXIES": "1"})
    assert refused.returncode != 0
    assert "needs DUET_BEHIND_TLS_PROXY=true" in refused.stderr


@override_settings(
    SECURE_SSL_REDIRECT=True,
    SECURE_REDIRECT_EXEMPT=[r"^api/health/$"],
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    SECURE_HSTS_SECONDS=31536000,
)
def test_the_redirect_spares_health_and_https_gets_hsts(client):
    redirected = client.get("/api/documents/")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://testserver/api/documents/"
    assert client.get("/api/health/").status_code == 200
    secure = client.get("/api/documents/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 401
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")


def test_answers_deny_framing_and_sniffing(client, api):
    for response in (client.get("/api/health/"), api.get("/api/documents/")):
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def drf_views(resolver: URLResolver | None = None):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from drf_views(pattern)
        else:
            assert isinstance(pattern, URLPattern)
            yield pattern


def test_no_cookie_or_ambient_credentials_are_reachable(settings, client, user):
    """Why security.W003 (CSRF) is silenced: nothing a browser sends by itself logs in."""
    assert "django.contrib.sessions" not in settings.INSTALLED_APPS
    assert not any("Session" in m or "Authentication" in m for m in settings.MIDDLEWARE)
    checked = 0
    for pattern in drf_views():
        cls = getattr(pattern.callback, "cls", None)
        if cls is None:
            # A plain Django view: without session and authentication middleware (asserted
            # above) it has no request.user and no cookie login to abuse.
            continue
        classes = cls.authentication_classes
        assert all(issubclass(c, ApiTokenAuthentication) for c in classes), (pattern, classes)
        checked += 1
    assert checked >= 4
    # A browser's cookies and Basic credentials get nothing.
    cookies = client.post(
        "/api/documents/",
        {"title": "t", "text": "x"},
        content_type="application/json",
        HTTP_COOKIE="sessionid=abc; csrftoken=def",
        HTTP_AUTHORIZATION="Basic YWRhOnNlY3JldA==",
    )
    assert cookies.status_code == 401


@pytest.fixture
def anon_limit(monkeypatch):
    monkeypatch.setattr(AnonymousThrottle, "THROTTLE_RATES", {"anon": "3/min"})
    cache.clear()
    yield
    cache.clear()


def get(client, token=None, address="198.51.100.7", **headers):
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Token {token}"
    return client.get("/api/documents/", REMOTE_ADDR=address, **headers)


def test_requests_without_a_valid_token_are_throttled_per_address(anon_limit, client, user):
    statuses = [get(client).status_code, get(client, "wrong").status_code]
    statuses += [get(client, "0" * 40).status_code, get(client).status_code]
    assert statuses == [401, 401, 401, 429]
    assert int(get(client)["Retry-After"]) > 0
    # Another address has its own count; a valid token from the throttled one still works.
    assert get(client, address="198.51.100.8").status_code == 401
    _, token = ApiToken.objects.mint(user)
    assert get(client, token).status_code == 200


def test_forwarded_for_is_ignored_without_the_proxy(anon_limit, client):
    assert api_settings.NUM_PROXIES == 0
    statuses = [get(client, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_behind_one_proxy_the_address_it_saw_counts(anon_limit, client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    # A client-written entry to the left is not trusted; the proxy's own entry is.
    spoofed = [
        get(client, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 203.0.113.5").status_code for n in range(4)
    ]
    assert spoofed == [401, 401, 401, 429]
    assert get(client, HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 401


def test_health_is_not_throttled_for_anyone(anon_limit, client):
    assert {client.get("/api/health/").status_code for _ in range(6)} == {200}
