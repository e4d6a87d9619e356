"""``./dev test``: every suite, each in the environment it belongs to (``SUITES``).

Unit suites share one private PostgreSQL and Redis; counts come from pytest (totals.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections import Counter

from .servers import Postgres, Redis
from .system import REPO, STATE, HarnessError, clean_env, say
from .venvs import check_locks, python

TEST_STATE = STATE / "test"
#: name: (venv, folder, pytest arguments).
SUITES = {
    "shared_resource (web env)": ("web", "shared_resource", ()),
    "shared_resource (worker env)": ("worker", "shared_resource", ()),
    "web": ("web", "web", ()),
    "worker": ("worker", "worker", ()),
    "e2e": ("web", "e2e", ()),
    # The VM test's script on booted containers (vmhosts.py); root only.
    "vm-native": ("web", "e2e", ("vm_native",)),
}
#: Suites that start their own servers, not the shared unit-test ones.
OWN_SERVERS = ("e2e", "vm-native")
#: Upstream mode of the Nix checks (test_nix_offline.py), when set.
PASSED_ON = ("DUET_POETRY2NIX_SRC", "DUET_NIXPKGS_LIB_SRC")


def lint() -> None:
    """ruff, configured once in ruff.toml: rules, then formatting; then mypy."""
    ruff = str(python("web").parent / "ruff")
    for argv in ([ruff, "check", "--no-cache", "."], [ruff, "format", "--check", "."]):
        if subprocess.run(argv, cwd=REPO).returncode:
            raise HarnessError(f"{' '.join(argv[1:3])} found problems")
    say("lint: ruff check and ruff format clean")
    type_check()


#: mypy (configured once in mypy.ini) per locked environment: the settings module that
#: django-stubs loads, and the packages checked. .pre-commit-config.yaml runs the same.
MYPY_RUNS = {
    "web": ("duet_web.settings", ("web/duet_web", "web/documents", "web/api_tokens")),
    "worker": ("duet_worker.settings", ("worker/duet_worker", "worker/summaries")),
}


def type_check() -> None:
    """mypy over shared_resource and each service, in each service's locked venv."""
    checked = []
    for env, (settings, packages) in MYPY_RUNS.items():
        argv = [str(python(env).parent / "mypy"), "--config-file", "mypy.ini"]
        argv += ["--cache-dir", str(STATE / "mypy" / env), "shared_resource/shared_resource"]
        variables = {"DJANGO_SETTINGS_MODULE": settings, "DUET_ENV": "development"}
        result = subprocess.run(
            [*argv, *packages], cwd=REPO, env=clean_env(variables), capture_output=True, text=True
        )
        if result.returncode:
            print(result.stdout + result.stderr, end="")
            raise HarnessError(f"mypy found problems in the {env} env")
        checked.append(f"{env} env: {result.stdout.split(' in ')[-1].split()[0]} files")
    say(f"lint: mypy clean ({', '.join(checked)})")


def run_suites(selected: list[str] | None, pytest_args: tuple[str, ...]) -> Counter[str]:
    names = [name for name in SUITES if not selected or any(k in name for k in selected)]
    shutil.rmtree(TEST_STATE, ignore_errors=True)
    TEST_STATE.mkdir(parents=True)
    postgres, redis = Postgres(TEST_STATE, fast=True), Redis(TEST_STATE)
    unit = [name for name in names if name not in OWN_SERVERS]
    totals: Counter[str] = Counter()
    failed = []
    try:
        if unit:
            postgres.start()
            redis.start()
        for name in names:
            venv, folder, args = SUITES[name]
            if name == "vm-native" and os.geteuid() != 0:
                say("\n== vm-native ==\nvm-native: skipped: it needs root (systemd-nspawn, mounts)")
                continue
            if name in OWN_SERVERS:
                # It starts its own servers; the unit ones would only compete for the CPU
                # with the fault scenarios' tight timings.
                redis.stop()
                postgres.stop()
            report = TEST_STATE / f"{name.split()[0]}-{venv}.json"
            env = clean_env(
                {
                    # Django's test runner creates test_duet, so it needs CREATEDB: the
                    # superuser, never the DML-only roles.
                    "DATABASE_URL": postgres.superuser_url("duet") if unit else "",
                    "CELERY_BROKER_URL": redis.url(2) if unit else "",
                    "CACHE_URL": redis.url(3) if unit else "",
                    "PYTHONDONTWRITEBYTECODE": "1",
                    "DUET_STATE_DIR": str(STATE),
                    "DUET_TOTALS_FILE": str(report),
                    **{key: os.environ[key] for key in PASSED_ON if key in os.environ},
                }
            )
            say(f"\n== {name} ==")
            started = time.monotonic()
            pytest = [str(python(venv)), "-m", "pytest", "-p", "no:cacheprovider", "-p"]
            argv = [*pytest, "dev.totals", *args, *pytest_args]
            code = subprocess.run(argv, cwd=REPO / folder, env=env).returncode
            if report.exists():
                totals.update(json.loads(report.read_text()))
            # 5 is "no tests collected": a failure, unless the caller narrowed the run.
            if code not in ((0, 5) if pytest_args else (0,)):
                failed.append(name)
            say(f"({name}: {time.monotonic() - started:.1f} s)")
    finally:
        redis.stop()
        postgres.stop()
    if failed:
        raise HarnessError(f"failing suites: {', '.join(failed)}")
    return totals


def run_all(selected: list[str] | None = None, pytest_args: tuple[str, ...] = ()) -> None:
    started = time.monotonic()
    if not selected:
        lint()
        stale = check_locks()
        if stale:
            raise HarnessError("stale locks (run ./dev lock):\n" + "\n".join(stale))
        say("locks: web/poetry.lock and worker/poetry.lock match their pyproject.toml")
        # The flake, offline: parse, contract evaluation, VM testScript, lock (nixcheck.py).
        from nix_offline.nixcheck import run as nix_offline

        nix_offline(tools=python("web").parent)  # mypy and pyflakes: the web venv's
    totals = run_suites(selected, pytest_args)
    say(
        f"\ntests: passed={totals['passed']} failed={totals['failed'] + totals['error']} "
        f"skipped={totals['skipped']} total={totals.total()} "
        f"seconds={time.monotonic() - started:.1f}"
    )
