"""The smallest project that installs ``common``: used to test it in each environment."""

import os

from django.core.exceptions import ImproperlyConfigured

if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured("set DATABASE_URL to a PostgreSQL URL (./dev test does)")

import environ

SECRET_KEY = "tests-only"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "shared_resource",  # SharedResourceConfig: app label common, tables common_*
]
DATABASES = {"default": environ.Env().db_url("DATABASE_URL")}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
