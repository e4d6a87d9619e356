"""One venv per service from its lock (Poetry exports, pip installs with every hash checked)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from .system import REPO, STATE, HarnessError, run, say

SERVICES = ("web", "worker")
POETRY_REQUIREMENTS = ("poetry==1.8.5", "poetry-plugin-export==1.8.0")
#: Built first, so that sdists in the lock (psycopg2) build without fetching anything.
BUILD_TOOLS = ("setuptools", "poetry-core")


def venv_dir(service: str) -> Path:
    return STATE / "venvs" / service


def python(service: str) -> Path:
    return venv_dir(service) / "bin" / "python"


def tool_python() -> Path:
    return STATE / "tools" / "poetry" / "bin" / "python"


def ensure_python_build_support() -> list[str]:
    """Debian packages this interpreter still needs to make venvs and build psycopg2."""
    missing = []
    try:
        import ensurepip  # noqa: F401
    except ImportError:
        missing.append("python3-venv")
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        missing.append("python3-dev")
    return missing


def poetry(*args: str, cwd: Path = REPO) -> str:
    """Run plain Poetry 1.8.5 from a tool venv (installed on first use)."""
    if not tool_python().exists():
        say("installing Poetry 1.8.5 (to export the locks)")
        shutil.rmtree(tool_python().parent.parent, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(tool_python().parent.parent)], what="venv")
        pip = [str(tool_python()), "-m", "pip", "install", "-q", *POETRY_REQUIREMENTS]
        run(pip, what="pip install poetry", quiet=True)
    argv = [str(tool_python()), "-m", "poetry", "--no-interaction", "--no-ansi", *args]
    return run(argv, cwd=cwd, what=f"poetry {' '.join(args)}", quiet=True)


def _stamp(service: str) -> str:
    """The interpreter, the lock and the Poetry metadata: what a venv is rebuilt for."""
    import json
    import tomllib

    digest = hashlib.sha256(sys.version.encode())
    digest.update((REPO / service / "poetry.lock").read_bytes())
    for project in (REPO / service, REPO / "shared_resource"):
        poetry_table = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["poetry"]
        digest.update(json.dumps(poetry_table, sort_keys=True).encode())
    return digest.hexdigest()


def export_requirements(service: str) -> Path:
    """Export ``service``'s lock (main and dev groups) to a hashed requirements file."""
    target = STATE / "venvs" / f"{service}.requirements.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    poetry("export", "--directory", str(REPO / service), "--with", "dev", "--output", str(target))
    return target


def split_requirements(path: Path) -> tuple[list[str], list[str]]:
    """(build tools, the rest) of an export, without path dependencies, which pip cannot hash."""
    entries: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith((" ", "\t")) and entries:
            entries[-1] += "\n" + line
        elif line.strip() and not line.startswith("#"):
            entries.append(line)
    tools, rest = [], []
    for entry in entries:
        name = entry.split("==", 1)[0].split(" @ ", 1)[0].strip().lower()
        if " @ file:" in entry or " @ " in entry.split("\n", 1)[0]:
            continue
        (tools if name in BUILD_TOOLS else rest).append(entry)
    return tools, rest


def ensure_venv(service: str) -> Path:
    """Build ``service``'s venv from its lock, unless one from the same lock exists."""
    venv = venv_dir(service)
    stamp_file = venv / ".duet-stamp"
    stamp = _stamp(service)
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return venv
    say(f"building the {service} venv from {service}/poetry.lock (hashes checked)")
    tools, rest = split_requirements(export_requirements(service))
    shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", str(venv)], what="venv")
    pip = [str(python(service)), "-m", "pip"]
    install = [*pip, "install", "-q", "--no-deps", "--no-build-isolation"]
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for group, entries in (("build tools", tools), ("packages", rest)):
        reqs = STATE / "venvs" / f"{service}.{group.replace(' ', '-')}.txt"
        reqs.write_text("\n".join(entries) + "\n")
        try:
            subprocess.run([*install, "--require-hashes", "-r", str(reqs)], check=True, env=env)
        except subprocess.CalledProcessError as exc:
            raise HarnessError(f"installing {service}'s {group} failed") from exc
    shared = [*install, "-e", str(REPO / "shared_resource")]
    run(shared, what="install shared_resource", env=env)
    run([*pip, "check"], what=f"pip check ({service})", env=env, quiet=True)
    stamp_file.write_text(stamp)
    return venv


def check_locks() -> list[str]:
    """Return a message for each lock that no longer matches its pyproject."""
    stale = []
    for service in SERVICES:
        try:
            poetry("check", "--lock", "--directory", str(REPO / service))
        except HarnessError as exc:
            stale.append(f"{service}/poetry.lock: {exc}")
    return stale
