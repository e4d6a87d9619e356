"""Worker liveness from a heartbeat file, not from the broker's remote control."""

import os
import subprocess
import time

from dev.system import REPO
from dev.venvs import venv_dir


def health(stack, path):
    argv = [str(venv_dir("worker") / "bin" / "python"), "-c"]
    argv += ["from duet_worker.cli import health; health()"]
    env = {**stack.service_env("worker"), "DUET_WORKER_HEARTBEAT_FILE": str(path)}
    return subprocess.run(argv, env=env, cwd=REPO / "worker", capture_output=True, text=True)


def test_a_running_worker_keeps_its_heartbeat_fresh(stack):
    path = stack.heartbeat(1)
    first = path.stat().st_mtime
    time.sleep(6)
    assert path.stat().st_mtime > first
    result = health(stack, path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: heartbeat")


def test_a_stale_or_missing_heartbeat_is_unhealthy(stack, tmp_path):
    stale = tmp_path / "stale.heartbeat"
    stale.touch()
    os.utime(stale, (time.time() - 60, time.time() - 60))
    result = health(stack, stale)
    assert result.returncode == 1 and "the worker is stuck" in result.stderr
    result = health(stack, tmp_path / "missing")
    assert result.returncode == 1 and "the worker is not running" in result.stderr
