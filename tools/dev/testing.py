"""``./dev test``: every suite, each in the environment it belongs to.

1. lint (ruff), lock freshness (``poetry check --lock``) and the offline Nix checks (nixcheck.py);
2. the shared_resource suite in the web env and again in the worker env;
3. the web suite (web env) and the worker suite (worker env);
4. the end-to-end suite, which starts its own stack of real processes;
5. vm-native: the VM test's script on booted containers (root only; skipped otherwise).

Unit suites share one private PostgreSQL and Redis, started here on free ports. Each suite
writes JUnit XML, from which the totals are printed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from .servers import Postgres, Redis
from .system import REPO, STATE, HarnessError, clean_env, say
from .venvs import check_locks, ensure_venv, python

TEST_STATE = STATE / "test"


@dataclass
class Suite:
    name: str
    env: str
    """Which venv runs it: web or worker."""
    directory: Path
    args: tuple[str, ...] = ()


SUITES = [
    Suite("shared_resource (web env)", "web", REPO / "shared_resource"),
    Suite("shared_resource (worker env)", "worker", REPO / "shared_resource"),
    Suite("web", "web", REPO / "web"),
    Suite("worker", "worker", REPO / "worker"),
    Suite("e2e", "web", REPO / "e2e"),
    # The VM test's script on booted containers (vmhosts.py); root only.
    Suite("vm-native", "web", REPO / "e2e", ("vm_native",)),
]
#: Suites that start their own servers, not the shared unit-test ones.
OWN_SERVERS = ("e2e", "vm-native")


@dataclass
class Totals:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0

    def add(self, report: Path) -> Totals:
        root = ET.parse(report).getroot()
        for suite in root.iter("testsuite"):
            self.tests += int(suite.get("tests", 0))
            self.failures += int(suite.get("failures", 0))
            self.errors += int(suite.get("errors", 0))
            self.skipped += int(suite.get("skipped", 0))
        return self

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped


def lint() -> None:
    """ruff, configured once in ruff.toml: rules, then formatting; then mypy."""
    ruff = str(python("web").parent / "ruff")
    paths = ["."]
    for argv in ([ruff, "check", "--no-cache", *paths], [ruff, "format", "--check", *paths]):
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


def run_suites(selected: list[str] | None = None, pytest_args: tuple[str, ...] = ()) -> Totals:
    suites = [s for s in SUITES if not selected or any(k in s.name for k in selected)]
    shutil.rmtree(TEST_STATE, ignore_errors=True)
    TEST_STATE.mkdir(parents=True)
    postgres = Postgres(TEST_STATE, fast=True)
    redis = Redis(TEST_STATE)
    totals = Totals()
    failed: list[str] = []
    unit = [s for s in suites if s.name not in OWN_SERVERS]
    try:
        if unit:
            postgres.start()
            redis.start()
        for suite in suites:
            if suite.name == "vm-native" and os.geteuid() != 0:
                say("\n== vm-native ==\nvm-native: skipped: it needs root (systemd-nspawn, mounts)")
                continue
            if suite.name in OWN_SERVERS:
                # It starts its own servers; the unit ones would only compete for the CPU
                # with the fault scenarios' tight timings.
                redis.stop()
                postgres.stop()
            report = TEST_STATE / f"{suite.name.split()[0]}-{suite.env}.xml"
            env = clean_env(
                {
                    # Django's test runner creates test_duet, so it needs CREATEDB: the
                    # superuser, never the DML-only roles.
                    "DATABASE_URL": postgres.superuser_url("duet") if unit else "",
                    "CELERY_BROKER_URL": redis.url(2) if unit else "",
                    "CACHE_URL": redis.url(3) if unit else "",
                    "PYTHONDONTWRITEBYTECODE": "1",
                    "DUET_STATE_DIR": str(STATE),
                    # Upstream mode of the Nix checks (test_nix_offline.py), when set.
                    **{
                        key: os.environ[key]
                        for key in ("DUET_POETRY2NIX_SRC", "DUET_NIXPKGS_LIB_SRC")
                        if key in os.environ
                    },
                }
            )
            say(f"\n== {suite.name} ==")
            started = time.monotonic()
            result = subprocess.run(
                [
                    str(python(suite.env)),
                    "-m",
                    "pytest",
                    "-p",
                    "no:cacheprovider",
                    f"--junitxml={report}",
                    *suite.args,
                    *pytest_args,
                ],
                cwd=suite.directory,
                env=env,
            )
            if report.exists():
                totals.add(report)
            # 5 is "no tests collected": a failure, unless the caller narrowed the run.
            if result.returncode not in ((0, 5) if pytest_args else (0,)):
                failed.append(suite.name)
            say(f"({suite.name}: {time.monotonic() - started:.1f} s)")
    finally:
        redis.stop()
        postgres.stop()
    if failed:
        raise HarnessError(f"failing suites: {', '.join(failed)}")
    return totals


def run_all(selected: list[str] | None = None, pytest_args: tuple[str, ...] = ()) -> None:
    started = time.monotonic()
    for service in ("web", "worker"):
        ensure_venv(service)
    if not selected:
        lint()
        stale = check_locks()
        if stale:
            raise HarnessError("stale locks (run ./dev lock):\n" + "\n".join(stale))
        say("locks: web/poetry.lock and worker/poetry.lock match their pyproject.toml")
        # The flake, offline: parse, contract evaluation, VM testScript, lock (nixcheck.py).
        from nix_offline.nixcheck import run as nix_offline

        nix_offline()
    totals = run_suites(selected, pytest_args)
    say(
        f"\ntests: passed={totals.passed} failed={totals.failures + totals.errors} "
        f"skipped={totals.skipped} total={totals.tests} "
        f"seconds={time.monotonic() - started:.1f}"
    )
