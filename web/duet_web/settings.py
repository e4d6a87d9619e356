"""Settings for duet's web service, read from the environment.

Every value comes from an environment variable (django-environ), and any of them may instead
come from a file named by ``<NAME>_FILE`` (``environ.FileAwareEnv``), which is how secrets
arrive from systemd credentials or container secrets. Nothing secret has a production default:
outside development (``DUET_ENV=development``) a missing secret key or host list stops start-up
with a message naming the variable to set.
"""

import logging
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from shared_resource import logs
from shared_resource.contract import DEFAULT_MAX_ATTEMPTS

env = environ.FileAwareEnv()

BASE_DIR = Path(__file__).resolve().parent.parent

# "production" unless told otherwise, so a forgotten variable fails closed.
DUET_ENV = env.str("DUET_ENV", default="production")
if DUET_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"DUET_ENV must be 'development' or 'production', not {DUET_ENV!r}")
DEVELOPMENT = DUET_ENV == "development"

DEBUG = env.bool("DJANGO_DEBUG", default=False)
if DEBUG and not DEVELOPMENT:
    raise ImproperlyConfigured("DJANGO_DEBUG is only allowed with DUET_ENV=development")

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="").strip()
if not SECRET_KEY:
    if not DEVELOPMENT:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set; "
            "only DUET_ENV=development has a built-in key"
        )
    # API tokens are random and stored hashed, not signed with this key, so it protects nothing
    # that matters locally; it never applies outside development.
    SECRET_KEY = "development-only-insecure-key"

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=["localhost", "127.0.0.1", "[::1]"] if DEVELOPMENT else [],
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must list the host names this service answers to"
    )

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Operability: Swagger UI and ReDoc's own files, collected with the other static files.
    "drf_spectacular_sidecar",
    "shared_resource",  # SharedResourceConfig: app label common, tables common_*
    "documents",
    # Hashed API tokens: a web-only app, so the worker role (granted common_* only) never
    # reaches the table. Replaces rest_framework.authtoken (its table is carried over and
    # dropped by api_tokens' migration 0002).
    "api_tokens",
]

MIDDLEWARE = [
    # Operability (request ids in logs and on responses, HTTP metrics): first, so every
    # answer has an id and is counted.
    "duet_web.request_id.RequestIdMiddleware",
    "duet_web.metrics.HttpMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "duet_web.middleware.RequestBodyLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    # X-Frame-Options: DENY on every answer (the browsable API and any HTML page).
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# --- Security: HTTPS behind the proxy, client addresses, silenced deploy checks ----------
# `manage.py check --deploy --fail-level WARNING` is clean in both configurations below
# (tests/test_security.py); README "Security" says what is left to the operator.
DUET_BEHIND_TLS_PROXY = env.bool("DUET_BEHIND_TLS_PROXY", default=False)
if DUET_BEHIND_TLS_PROXY:
    # The proxy terminates TLS and sets X-Forwarded-Proto, so that Location headers and `url`
    # fields say https and clients never send their token in clear.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Local health checks (systemd, a load balancer, the container runtime) ask gunicorn
    # directly over plain HTTP: they must get the answer, not a redirect.
    SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
    SECURE_HSTS_SECONDS = env.int("DUET_HSTS_SECONDS", default=365 * 24 * 3600)
    # Only the API host's own subdomains; off if the API is served at a domain whose other
    # subdomains still speak plain HTTP.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DUET_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("DUET_HSTS_PRELOAD", default=False)

# The client address for the anonymous throttle: REMOTE_ADDR, or, behind the TLS proxy, the
# X-Forwarded-For entry written by the outermost of DUET_NUM_PROXIES trusted proxies.
# Without the proxy X-Forwarded-For is whatever the client wrote, so it is never trusted.
DUET_NUM_PROXIES = env.int("DUET_NUM_PROXIES", default=1 if DUET_BEHIND_TLS_PROXY else 0)
if DUET_NUM_PROXIES < 0 or (DUET_NUM_PROXIES and not DUET_BEHIND_TLS_PROXY):
    raise ImproperlyConfigured(
        "DUET_NUM_PROXIES counts the proxies in front of duet (0 or more) and needs "
        "DUET_BEHIND_TLS_PROXY=true: X-Forwarded-For is trusted only from the TLS proxy"
    )

SILENCED_SYSTEM_CHECKS = [
    # security.W003 (no CsrfViewMiddleware): CSRF abuses credentials a browser sends by
    # itself (session cookies, HTTP Basic). None is reachable: no sessions app, no session or
    # auth middleware, and every view authenticates with the Authorization: Token header
    # only (tests/test_security.py checks every URL).
    "security.W003",
]
if not DUET_BEHIND_TLS_PROXY:
    # security.W004 (HSTS), W008 (SSL redirect): without the TLS proxy gunicorn serves plain
    # HTTP itself (the VM test, the e2e and fault suites, local health checks); both are on
    # with DUET_BEHIND_TLS_PROXY=true.
    SILENCED_SYSTEM_CHECKS += ["security.W004", "security.W008"]
elif not SECURE_HSTS_PRELOAD:
    # security.W021 (HSTS preload): preloading commits the whole registrable domain to HTTPS
    # in browsers for months; the domain's owner opts in (DUET_HSTS_PRELOAD=true), as the
    # preload list asks tools not to enable it by default.
    SILENCED_SYSTEM_CHECKS += ["security.W021"]
# --- end of security ------------------------------------------------------------------------

ROOT_URLCONF = "duet_web.urls"
WSGI_APPLICATION = "duet_web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Operability: duet's own page around ReDoc (duet_web/docs.py).
        "DIRS": [BASE_DIR / "duet_web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# DATABASE_URL, or libpq's own PGHOST/PGPORT/PGUSER/PGPASSFILE/... with the default URL,
# which names only the database (peer authentication over the Unix socket in NixOS).
DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres:///duet")}
# Persistent connections, checked before reuse so that a PostgreSQL restart costs no request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
# No SELECT 1 before each request's first query: that query checks the connection itself
# and runs again once on a fresh one if the kept one is dead (shared_resource/connections.py).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Releasing web and worker separately: migrate under load, and the schema guard ---
# migrate's DDL must not hold locks that stall the workers' writes: the backend is
# django-pg-zero-downtime-migrations (CREATE INDEX CONCURRENTLY, no long ACCESS EXCLUSIVE
# locks, unsafe operations refused) plus lock-timeout retries (duet_web/postgres/base.py).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "duet_web.postgres"
# How long a schema change may wait for its lock (queueing writers behind it) before it
# gives up and is retried, and how long it may then hold the lock.
ZERO_DOWNTIME_MIGRATIONS_LOCK_TIMEOUT = env.str("DUET_MIGRATE_LOCK_TIMEOUT", default="1s")
ZERO_DOWNTIME_MIGRATIONS_STATEMENT_TIMEOUT = env.str("DUET_MIGRATE_STATEMENT_TIMEOUT", default="5s")
# Index builds and constraint validation (no ACCESS EXCLUSIVE lock) may take their time.
ZERO_DOWNTIME_MIGRATIONS_FLEXIBLE_STATEMENT_TIMEOUT = True
# An operation that would lock a table for long (a NOT NULL column without a database
# default, a type change) stops migrate with an error instead.
ZERO_DOWNTIME_MIGRATIONS_RAISE_FOR_UNSAFE = True
# Retries of a statement that hit the lock timeout, pausing 0.5 s, 1 s, 2 s... up to 5 s.
DUET_MIGRATE_LOCK_RETRIES = env.int("DUET_MIGRATE_LOCK_RETRIES", default=10)
# gunicorn runs the schema guard at start-up (exit 78 outside the window) and /api/health/
# repeats it at most this often (seconds), answering 503 once the window is left.
DUET_SCHEMA_CHECK_INTERVAL = env.float("DUET_SCHEMA_CHECK_INTERVAL", default=30.0)
# --- end ---

# The worker's role, granted DML on the ``common_*`` tables by every migrate run
# (shared_resource/grants.py). Empty: no grants (tests, single-role setups).
DUET_WORKER_DB_ROLE = env.str("DUET_WORKER_DB_ROLE", default="") or None

# Shared across gunicorn workers and hosts, so throttling counts every request once.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
USE_I18N = False

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

# Request bodies larger than this get 413 before any parsing (duet_web.middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DUET_MAX_BODY_BYTES", default=1024 * 1024)
# The longest document text accepted, in characters.
DUET_MAX_TEXT_CHARS = env.int("DUET_MAX_TEXT_CHARS", default=100_000)
# A queued job not picked up for this long is re-published by the sweeper; a running job
# whose lease ran out is handed back to the queue.
DUET_SWEEP_STALE_SECONDS = env.int("DUET_SWEEP_STALE_SECONDS", default=120)
# How many claims a job gets before the sweeper gives up on it (a job that kills its worker).
DUET_MAX_ATTEMPTS = env.int("DUET_MAX_ATTEMPTS", default=DEFAULT_MAX_ATTEMPTS)

REST_FRAMEWORK = {
    # Token first and only: it sends WWW-Authenticate, so a missing token is a 401. Hashed
    # keys (api_tokens); it also throttles requests without a valid token ("anon" below).
    "DEFAULT_AUTHENTICATION_CLASSES": ["api_tokens.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "documents.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON in, JSON out: one request format to validate and document (others get 415).
    "DEFAULT_PARSER_CLASSES": ["duet_web.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEVELOPMENT else []),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "EXCEPTION_HANDLER": "duet_web.errors.api_exception_handler",
    # Counted in CACHES["default"]: Redis in any real deployment (see duet_web/checks.py).
    "DEFAULT_THROTTLE_CLASSES": ["documents.throttling.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("DUET_THROTTLE_USER", default="600/min"),
        "submit": env.str("DUET_THROTTLE_SUBMIT", default="60/min"),
        # Per client address, for requests with no valid token (documents.throttling).
        "anon": env.str("DUET_THROTTLE_ANON", default="60/min"),
    },
    # The number of proxies whose X-Forwarded-For to trust (see the security block above).
    "NUM_PROXIES": DUET_NUM_PROXIES,
}

SPECTACULAR_SETTINGS = {
    # Every operation also documents its error answers (401, 404, 429, 503...).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "duet_web.schema.document_error_responses",
    ],
    "TITLE": "duet API",
    "DESCRIPTION": "Submit documents, poll their summary jobs.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Operability: the schema, Swagger UI (/api/docs/) and ReDoc (/api/redoc/) are public.
    # The schema describes the API and holds no data, so the UI loads it without a token;
    # "Try it out" sends the token the user enters under "Authorize". Both UIs are served
    # from the collected static files (drf-spectacular-sidecar), never from a CDN.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Celery, client side only: this process publishes by task name and runs no tasks.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://localhost:6379/0").strip()
CELERY_BROKER_TRANSPORT_OPTIONS = env.json("CELERY_BROKER_TRANSPORT_OPTIONS", default={})
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
# Publishing happens inside a request: with the broker down, give up fast and leave the job
# queued for the sweeper instead of holding the client (celery #4663, #6911).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# --- Operability: metrics -----------------------------------------------------------------
# /metrics answers 404 unless this is set; then it needs "Authorization: Bearer <token>".
DUET_METRICS_TOKEN = env.str("DUET_METRICS_TOKEN", default="").strip()

# --- Operability: logs -------------------------------------------------------------------
# DUET_LOG_FORMAT=plain (default) or json: one JSON object per line, with the request and
# job ids (shared_resource/logs.py; gunicorn's own lines follow it in gunicorn_conf.py).
DUET_LOG_FORMAT = env.str("DUET_LOG_FORMAT", default="plain")
if DUET_LOG_FORMAT not in logs.FORMATS:
    raise ImproperlyConfigured(
        f"DUET_LOG_FORMAT must be 'plain' or 'json', not {DUET_LOG_FORMAT!r}"
    )
# Python warnings through logging too, so that a JSON log holds only JSON lines.
logging.captureWarnings(True)
LOGGING = logs.logging_config(DUET_LOG_FORMAT, env.str("DJANGO_LOG_LEVEL", default="INFO"))
