"""``./dev manage`` reaches a running stack's database, broker and secrets, as the right role."""

import subprocess

from dev.stack import http_json
from dev.system import REPO


def dev_manage(stack_dir, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [str(REPO / "dev"), "manage", "--stack-dir", str(stack_dir), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def test_a_user_created_with_dev_manage_can_use_the_running_api(stack):
    result = dev_manage(stack.state, "create_api_user", "alice-from-dev-manage")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    status, _, body = http_json("GET", f"{stack.base_url}/api/documents/", token)
    assert status == 200, body
    [[count]] = stack.sql("SELECT count(*) FROM auth_user WHERE username = 'alice-from-dev-manage'")
    assert count == "1"


def test_commands_connect_as_the_web_role(stack):
    result = dev_manage(stack.state, "dbshell", "--", "-Atc", "SELECT current_user")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "duet_web"


def test_migrate_runs_as_the_migrator(stack):
    result = dev_manage(stack.state, "migrate", "--noinput")
    assert result.returncode == 0, result.stderr
    assert "No migrations to apply" in result.stdout


def test_without_a_running_stack_it_says_how_to_start_one(tmp_path):
    result = dev_manage(tmp_path, "check")
    assert result.returncode == 1
    assert "start one with ./dev up" in result.stderr
