"""Test settings: the real settings module, in development mode, on the runner's servers."""

import os

os.environ.setdefault("DUET_ENV", "development")
# Many tests send requests without a token on purpose, all from 127.0.0.1; the anonymous
# throttle's own tests set a tight rate themselves.
os.environ.setdefault("DUET_THROTTLE_ANON", "100000/min")

import tempfile

from duet_web.settings import *  # noqa: F403

STATIC_ROOT = tempfile.mkdtemp(prefix="duet-static-")

# Fast hashing: tests create users, never log in with passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The schema guard's verdict is cached per process; tests move the schema, so never cache.
DUET_SCHEMA_CHECK_INTERVAL = 0
