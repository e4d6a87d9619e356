"""The machine: paths, Debian packages, free ports, secrets and the unprivileged user.

Standard library only: ``./dev`` imports it before any virtual environment exists.
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("DUET_STATE_DIR", REPO / ".state")).resolve()

#: Debian packages the native stack needs, by a file that shows each is present.
APT_PACKAGES = {
    "postgresql": "/usr/lib/postgresql",
    "redis-server": "/usr/bin/redis-server",
    # psycopg2 builds from source (the locks hold no binary wheel of it): a compiler and
    # libpq's headers. (Not /usr/bin/pg_config: postgresql-common ships one too.)
    "gcc": "/usr/bin/gcc",
    "libc6-dev": "/usr/include/stdio.h",
    "libpq-dev": "/usr/include/postgresql/libpq-fe.h",
    "nix-bin": "/usr/bin/nix-instantiate",
}

#: Only ``./dev test`` needs these: the Swagger UI test drives Debian's own Chromium through
#: its chromedriver (no browser download), with fonts for a readable screenshot.
TEST_APT_PACKAGES = {
    "chromium": "/usr/bin/chromium",
    "chromium-driver": "/usr/bin/chromedriver",
    "fonts-liberation": "/usr/share/fonts/truetype/liberation",
}


class HarnessError(RuntimeError):
    """Something the user must fix; printed without a traceback."""


def say(message: str) -> None:
    print(message, flush=True)


def is_root() -> bool:
    return os.geteuid() == 0


def ensure_apt_packages(packages: Mapping[str, str] = APT_PACKAGES) -> None:
    """Install missing Debian packages as root, or print the exact command otherwise."""
    missing = [name for name, probe in packages.items() if not Path(probe).exists()]
    if not missing:
        return
    command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    if not is_root():
        raise HarnessError(
            "missing Debian packages; install them with:\n  sudo apt-get update && sudo "
            + " ".join(command)
        )
    say(f"installing Debian packages: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)


def pg_bindir() -> Path:
    """The newest installed PostgreSQL server's bin directory."""
    servers = Path("/usr/lib/postgresql").glob("*/bin/initdb")  # not a client-only version
    versions = [p.parent for p in servers if p.parent.parent.name.isdigit()]
    if not versions:
        raise HarnessError("PostgreSQL server binaries not found under /usr/lib/postgresql")
    return max(versions, key=lambda p: int(p.parent.name))


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if it is free on loopback, else a port the kernel picks."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            # As the servers themselves do: a port whose old connections linger in
            # TIME_WAIT is free to listen on again.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise HarnessError("no free port")  # unreachable: port 0 always binds


def remembered_port(state: Path, name: str) -> int:
    """``name``'s last port in ``state`` while free, so URLs survive a restart of ``./dev up``."""
    import json

    ports_file = state / "ports.json"
    ports = json.loads(ports_file.read_text()) if ports_file.exists() else {}
    port = free_port(ports.get(name))
    ports[name] = port
    ports_file.write_text(json.dumps(ports, indent=2))
    return port


def wait_for(
    condition: Callable[[], bool], what: str, timeout: float = 60.0, interval: float = 0.2
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise HarnessError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


# --- the unprivileged user -------------------------------------------------------------
# PostgreSQL refuses to run as root. As root, server processes run as the `postgres` user
# that Debian's package creates; otherwise as the caller.


def service_user() -> pwd.struct_passwd | None:
    return pwd.getpwnam("postgres") if is_root() else None


def as_service_user(argv: Sequence[str]) -> list[str]:
    user = service_user()
    return ["runuser", "-u", user.pw_name, "--", *argv] if user else list(argv)


def give_to_service_user(*paths: Path) -> None:
    user = service_user()
    if user is None:
        return
    for path in paths:
        os.chown(path, user.pw_uid, user.pw_gid)
        if path.is_dir():
            for child in path.rglob("*"):
                os.chown(child, user.pw_uid, user.pw_gid, follow_symlinks=False)


def make_traversable(path: Path) -> None:
    """Let the service user reach ``path`` (as root, parents of the state dir may be 0700)."""
    if service_user() is None:
        return
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def read_since(path: Path, offset: int) -> str:
    """What a log file gained after ``offset`` bytes."""
    with open(path, "rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def write_secret(path: Path, value: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return path


def read_or_create_secret(path: Path) -> str:
    """A random secret kept in the state folder, so a second run reuses it."""
    if path.exists():
        return path.read_text()
    import secrets

    return write_secret(path, secrets.token_urlsafe(32)).read_text()


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    quiet: bool = False,
    what: str | None = None,
    input: str | None = None,
) -> str:
    """Run a command to completion; raise HarnessError with its output if it fails."""
    result = subprocess.run(argv, env=env, cwd=cwd, input=input, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-4000:]
        raise HarnessError(f"{what or argv[0]} failed (exit {result.returncode}):\n{output}")
    if not quiet and result.stderr.strip():
        sys.stderr.write(result.stderr)
    return result.stdout


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without anything that would redirect our services."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DUET_", "CELERY_", "DATABASE_", "PG", "OPENAI_"))
        and key not in {"CACHE_URL", "VIRTUAL_ENV", "PYTHONHOME"}
    }
    env.update(extra or {})
    return env
