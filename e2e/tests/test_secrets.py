"""No secret reaches a log, an error response or the repository."""

import re
import subprocess

from dev.stack import http_json
from dev.system import REPO


def secret_values(stack):
    return {
        path.name: path.read_text().strip()
        for path in (stack.state / "secrets").iterdir()
        if "url" not in path.name
    }


def test_no_secret_appears_in_any_log(stack, token):
    # Make every process log something: requests, errors, a job.
    http_json("POST", f"{stack.base_url}/api/documents/", token, {"title": "t", "text": "x"})
    http_json("GET", f"{stack.base_url}/api/documents/", "wrong-token")
    values = secret_values(stack)
    assert {"postgres-superuser", "db-web", "db-worker", "redis", "django-secret-key"} <= set(
        values
    )
    for log in stack.state.rglob("*.log"):
        text = log.read_text(errors="replace")
        leaked = [name for name, value in values.items() if value in text]
        assert leaked == [], f"{leaked} in {log}"


def test_error_responses_carry_no_secret(stack, token):
    values = secret_values(stack).values()
    for method, path, body in [
        ("POST", "/api/documents/", ["not", "an", "object"]),
        ("GET", "/api/jobs/00000000-0000-0000-0000-000000000000/", None),
        ("GET", "/api/documents/?cursor=bad", None),
    ]:
        status, headers, answer = http_json(method, f"{stack.base_url}{path}", token, body)
        assert 400 <= status < 500
        assert not any(value in repr(answer) + repr(headers) for value in values)


def tracked_files_with(*pattern: str) -> subprocess.CompletedProcess[str]:
    """``git grep`` of the repository's tracked text files for ``pattern`` (its options)."""
    argv = ["git", "grep", "-I", "-l", *pattern]
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True)


def test_the_repository_holds_no_secret_of_the_stack(stack):
    assert tracked_files_with("-F", "-e", secret_values(stack)["db-web"]).stdout == ""


def test_processes_get_secrets_as_files_not_values(stack):
    for service in ("web", "worker"):
        env = stack.service_env(service)
        joined = " ".join(f"{k}={v}" for k, v in env.items())
        assert not any(value in joined for value in secret_values(stack).values())
        assert "DATABASE_URL_FILE" in env and "DATABASE_URL" not in env


def test_the_repository_holds_no_api_token(stack, token):
    """Nothing shaped like a duet token is tracked (what a secret scanner would flag)."""
    pattern = r"duet_[0-9a-f]{12}_[0-9A-Za-z]{43}"
    assert re.fullmatch(pattern, token)
    tracked = tracked_files_with("-E", "-e", pattern)
    assert tracked.returncode == 1 and tracked.stdout == "", tracked.stdout
