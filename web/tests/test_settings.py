"""Settings fail closed outside development, and secrets may come from files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[1]


def load_settings(
    env: dict[str, str], expr: str = "settings.SECRET_KEY"
) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DUET_"))}
    code = f"import django; from django.conf import settings; django.setup(); print({expr})"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "DJANGO_SETTINGS_MODULE": "duet_web.settings", **env},
        cwd=WEB,
        capture_output=True,
        text=True,
    )


def test_production_without_a_secret_key_refuses_to_start():
    result = load_settings({"DJANGO_ALLOWED_HOSTS": "example.org"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set" in result.stderr


def test_production_without_allowed_hosts_refuses_to_start():
    result = load_settings({"DJANGO_SECRET_KEY": "s" * 50})
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_debug_is_refused_outside_development():
    result = load_settings(
        {"DJANGO_SECRET_KEY": "s" * 50, "DJANGO_ALLOWED_HOSTS": "x", "DJANGO_DEBUG": "true"}
    )
    assert result.returncode != 0
    assert "DJANGO_DEBUG is only allowed with DUET_ENV=development" in result.stderr


def test_an_unknown_environment_name_is_refused():
    result = load_settings({"DUET_ENV": "prod"})
    assert result.returncode != 0
    assert "DUET_ENV must be 'development' or 'production'" in result.stderr


def test_the_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("from-a-file\n")
    result = load_settings(
        {"DJANGO_SECRET_KEY_FILE": str(key_file), "DJANGO_ALLOWED_HOSTS": "example.org"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "from-a-file"


def test_development_defaults_are_local_and_not_debug():
    result = load_settings({"DUET_ENV": "development"}, "(settings.DEBUG, settings.ALLOWED_HOSTS)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(False, ['localhost', '127.0.0.1', '[::1]'])"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres:///duet", "('duet', '', '')"),
        ("postgres://u:p%40ss@db.example:6543/app", "('app', 'db.example', 6543)"),
    ],
)
def test_database_comes_from_a_url_or_libpq_defaults(url, expected):
    result = load_settings(
        {"DUET_ENV": "development", "DATABASE_URL": url},
        "tuple(settings.DATABASES['default'][k] for k in ('NAME', 'HOST', 'PORT'))",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_an_unknown_log_format_is_refused():
    result = load_settings({"DUET_ENV": "development", "DUET_LOG_FORMAT": "xml"})
    assert result.returncode != 0
    assert "DUET_LOG_FORMAT must be 'plain' or 'json'" in result.stderr


def test_json_log_lines_carry_the_bound_ids():
    code = (
        "import django, json, logging\n"
        "django.setup()\n"
        "from shared_resource import logs\n"
        "logging.getLogger('t').info('outside')\n"
        "with logs.bound(request_id='r1', job_id='j1'):\n"
        "    logging.getLogger('t').info('inside')\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DUET_"))}
    env = {"DJANGO_SETTINGS_MODULE": "duet_web.settings", "DUET_ENV": "development"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env, "DUET_LOG_FORMAT": "json"},
        cwd=WEB,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    outside, inside = (json.loads(line) for line in result.stderr.splitlines())
    assert (outside["message"], outside.get("request_id"), outside.get("job_id")) == (
        "outside",
        None,
        None,
    )
    assert (inside["message"], inside["request_id"], inside["job_id"]) == ("inside", "r1", "j1")
    assert {"time", "level", "logger"} <= inside.keys()
