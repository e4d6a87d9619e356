"""Processes, and private PostgreSQL and Redis servers (own port, 0600 secrets) on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import redis
from mirakuru import Executor
from mirakuru.base import ENV_UUID
from mirakuru.exceptions import ExecutorError, ProcessFinishedWithError

from .system import (
    REPO,
    HarnessError,
    as_service_user,
    give_to_service_user,
    make_traversable,
    pg_bindir,
    read_or_create_secret,
    remembered_port,
    run,
    write_secret,
)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Process(Executor):
    """A mirakuru child logging to a file, started once ``ready()`` holds (docs/architecture.md)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ready: Callable[[], bool] = lambda: True,
        timeout: float = 60.0,
    ) -> None:
        super().__init__(list(argv), cwd=cwd and str(cwd), timeout=timeout, sleep=0.05)
        self.name, self.log, self.ready = name, log, ready
        self.env = dict(os.environ if env is None else env)
        self._stdin = subprocess.DEVNULL
        self._stderr = subprocess.STDOUT

    @property
    def envvars(self) -> dict[str, str]:
        return {**self.env, ENV_UUID: self._uuid}  # the given environment, not ours

    def pre_start_check(self) -> bool:
        return False

    def after_start_check(self) -> bool:
        return self.ready()

    def start(self) -> Process:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as self._stdout:
            try:
                super().start()
            except ExecutorError as exc:
                raise HarnessError(f"{self.name}: {exc}\n{self.tail()}") from None
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not running"
        return self.process.pid

    def alive(self) -> bool:
        return self.running()

    def stop(self, timeout: float = 15.0, sig: int = signal.SIGTERM) -> int | None:  # type: ignore[override]
        """Signal the whole group, SIGKILL what is left after ``timeout``; the exit status."""
        if self.process is None:
            return None
        process, start_timeout, self._timeout = self.process, self._timeout, timeout
        try:
            super().stop(stop_signal=sig)
        except ProcessFinishedWithError as exc:
            return exc.exit_code
        finally:
            self._timeout = start_timeout  # a later start() waits as long as before
        return process.returncode

    def stop_gracefully(self, timeout: float = 60.0) -> int | None:
        """SIGTERM the leader only (systemd's KillMode=mixed), then :meth:`stop` what is left."""
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGTERM)
        code = self.wait(timeout)
        self.stop()
        return code

    def wait(self, timeout: float) -> int | None:
        """The exit status, or None if it still runs after ``timeout`` seconds."""
        try:
            return self.process.wait(timeout) if self.process else None
        except subprocess.TimeoutExpired:
            return None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


ROLES_SQL = REPO / "shared_resource" / "shared_resource" / "sql" / "roles.sql"

#: Role names: the same defaults as the NixOS module.
DATABASE = "duet"
ROLES = {"migrator": "duet_migrator", "web": "duet_web", "worker": "duet_worker"}


@dataclass
class Postgres:
    """A private PostgreSQL cluster: TCP on 127.0.0.1 only, SCRAM passwords for every role."""

    state: Path
    fast: bool = False
    """Trade durability for speed (fsync off): for throwaway test clusters only."""

    def __post_init__(self) -> None:
        self.root = self.state / "postgres"
        self.data = self.root / "data"
        self.secrets = self.state / "secrets"
        self.port = 0
        self.process: Process | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> Postgres:
        bindir = pg_bindir()
        self.root.mkdir(parents=True, exist_ok=True)
        make_traversable(self.state)
        superuser_password = read_or_create_secret(self.secrets / "postgres-superuser")
        if not (self.data / "PG_VERSION").exists():
            shutil.rmtree(self.data, ignore_errors=True)
            pwfile = self.root / "initdb-pw"
            write_secret(pwfile, superuser_password)
            give_to_service_user(self.root)
            argv = [str(bindir / "initdb"), "--pgdata", str(self.data), "--pwfile", str(pwfile)]
            argv += ["--username", "postgres", "--auth", "scram-sha-256", "--encoding", "UTF8"]
            try:
                run(as_service_user([*argv, "--no-instructions"]), what="initdb", quiet=True)
            finally:
                pwfile.unlink(missing_ok=True)
        if not self.port:  # a restart keeps its port: every client's URL names it
            self.port = remembered_port(self.state, "postgres")
        settings = {
            "port": str(self.port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": "",
            "max_connections": "200",
            "log_min_messages": "warning",
        }
        if self.fast:
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        argv = [str(bindir / "postgres"), "-D", str(self.data)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        log = self.root / "postgres.log"
        if not log.exists():
            log.touch()
        give_to_service_user(log)
        self.process = Process(
            "postgres", as_service_user(argv), log=log, ready=self.accepting
        ).start()
        return self

    def accepting(self) -> bool:
        """Ready for queries, not merely listening (it listens while still recovering)."""
        ready = subprocess.run(
            [str(pg_bindir() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
        )
        return ready.returncode == 0

    def stop(self) -> None:
        if self.process is not None:
            # SIGTERM is PostgreSQL's "smart" shutdown; SIGINT ("fast") ends sessions too.
            self.process.stop(timeout=30, sig=signal.SIGINT)

    # -- roles and URLs --------------------------------------------------------------------

    def superuser_url(self, database: str = "postgres") -> str:
        password = (self.secrets / "postgres-superuser").read_text()
        return self._url("postgres", password, database)

    def role_url(self, role: str, database: str = DATABASE) -> str:
        """URL for one of duet's roles: ``migrator``, ``web`` or ``worker``."""
        password = read_or_create_secret(self.secrets / f"db-{role}")
        return self._url(ROLES[role], password, database)

    def _url(self, user: str, password: str, database: str) -> str:
        return f"postgres://{user}:{quote(password, safe='')}@127.0.0.1:{self.port}/{database}"

    def url_file(self, role: str) -> Path:
        """A 0600 file holding the role's URL, for ``DATABASE_URL_FILE``."""
        return write_secret(self.secrets / f"database-url-{role}", self.role_url(role))

    def psql_argv(self, role: str | None = None, database: str = "postgres") -> list[str]:
        """psql as the superuser or one of duet's roles; :meth:`psql_env` has the password."""
        argv = [str(pg_bindir() / "psql"), "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-h"]
        user = ROLES[role] if role else "postgres"
        return [*argv, "127.0.0.1", "-p", str(self.port), "-U", user, "-d", database]

    def psql_env(self, role: str | None = None) -> dict[str, str]:
        secret = f"db-{role}" if role else "postgres-superuser"
        return {**os.environ, "PGPASSWORD": (self.secrets / secret).read_text()}

    def psql(self, *args: str, database: str = "postgres", input: str | None = None) -> str:
        """Run psql as the superuser; raise HarnessError if it fails."""
        argv = [*self.psql_argv(database=database), *args]
        return run(argv, env=self.psql_env(), input=input, what="psql", quiet=True)

    def create_roles(self) -> None:
        """Run the one role script (shared_resource/sql/roles.sql), as NixOS does."""
        args = ["-v", f"db={DATABASE}"]
        for role, name in ROLES.items():
            read_or_create_secret(self.secrets / f"db-{role}")
            args += ["-v", f"{role}={name}", "-v", f"{role}_password_file={self.secrets}/db-{role}"]
        self.psql(*args, "-f", str(ROLES_SQL))


@dataclass
class Redis:
    """A private Redis: 127.0.0.1 only, a password, no persistence, no eviction."""

    state: Path

    def __post_init__(self) -> None:
        self.root = self.state / "redis"
        self.port = 0
        self.process: Process | None = None

    @property
    def password(self) -> str:
        return read_or_create_secret(self.state / "secrets" / "redis")

    def url(self, db: int = 0) -> str:
        return f"redis://:{quote(self.password, safe='')}@127.0.0.1:{self.port}/{db}"

    def start(self) -> Redis:
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = remembered_port(self.state, "redis")
        config = self.root / "redis.conf"
        # The password goes in a 0600 file, never on a command line that `ps` shows.
        # Celery's docs: eviction corrupts broker state (InconsistencyError), hence noeviction.
        write_secret(
            config,
            f"bind 127.0.0.1\nport {self.port}\ndir {self.root}\n"
            f'requirepass "{self.password}"\nsave ""\nappendonly no\n'
            "maxmemory-policy noeviction\nprotected-mode yes\ndaemonize no\nloglevel warning\n",
        )
        self.process = Process(
            "redis",
            [shutil.which("redis-server") or "redis-server", str(config)],
            log=self.root / "redis.log",
            ready=self.answers,
            timeout=30,
        ).start()
        return self

    def answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, password=self.password).ping())
        except redis.AuthenticationError as exc:
            raise HarnessError(f"Redis refused the password: {exc}") from None
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=10)
