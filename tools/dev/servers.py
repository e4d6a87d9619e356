"""Private PostgreSQL and Redis servers under a state folder, on loopback ports.

Nothing here touches a system-wide server: each cluster has its own data directory, port
and passwords (kept in the state folder, mode 0600), and is reused by the next run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .system import (
    REPO,
    HarnessError,
    Process,
    as_service_user,
    give_to_service_user,
    make_traversable,
    pg_bindir,
    port_open,
    read_or_create_secret,
    remembered_port,
    run,
    wait_for,
    write_secret,
)

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
            try:
                run(
                    as_service_user(
                        [
                            str(bindir / "initdb"),
                            "--pgdata",
                            str(self.data),
                            "--username",
                            "postgres",
                            "--pwfile",
                            str(pwfile),
                            "--auth",
                            "scram-sha-256",
                            "--encoding",
                            "UTF8",
                            "--no-instructions",
                        ]
                    ),
                    what="initdb",
                    quiet=True,
                )
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
        self.process = Process("postgres", as_service_user(argv), log=log).start()
        wait_for(self._started, "PostgreSQL to accept connections", timeout=60)
        return self

    def _started(self) -> bool:
        if self.process is not None and not self.process.alive():
            raise HarnessError(f"PostgreSQL exited:\n{self.process.tail()}")
        return self.accepting()

    def accepting(self) -> bool:
        """Ready for queries, not merely listening (it listens while still recovering)."""
        if not self.port or not port_open(self.port):
            return False
        ready = subprocess.run(
            [str(pg_bindir() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
        )
        return ready.returncode == 0

    def stop(self) -> None:
        if self.process is not None:
            # SIGTERM is PostgreSQL's "smart" shutdown; SIGINT ("fast") ends sessions too.
            self.process.signal_group(2)
            self.process.stop(timeout=30)

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
        """psql as the superuser, or as one of duet's roles (``migrator``, ``web``,
        ``worker``); pair it with :meth:`psql_env` for the password."""
        return [
            str(pg_bindir() / "psql"),
            "--no-psqlrc",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            ROLES[role] if role else "postgres",
            "-d",
            database,
        ]

    def psql_env(self, role: str | None = None) -> dict[str, str]:
        secret = f"db-{role}" if role else "postgres-superuser"
        return {**os.environ, "PGPASSWORD": (self.secrets / secret).read_text()}

    def psql(self, *args: str, database: str = "postgres", input: str | None = None) -> str:
        """Run psql as the superuser; raise HarnessError if it fails."""
        return run(
            [*self.psql_argv(database=database), *args],
            env=self.psql_env(),
            input=input,
            what="psql",
            quiet=True,
        )

    def create_roles(self) -> None:
        """Run the one role script (shared_resource/sql/roles.sql), as NixOS does."""
        args = [f"db={DATABASE}"]
        for role, name in ROLES.items():
            read_or_create_secret(self.secrets / f"db-{role}")
            args += [f"{role}={name}", f"{role}_password_file={self.secrets / f'db-{role}'}"]
        self.psql(
            *(arg for pair in (("-v", a) for a in args) for arg in pair), "-f", str(ROLES_SQL)
        )


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
        write_secret(
            config,
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {self.port}",
                    f"dir {self.root}",
                    f'requirepass "{self.password}"',
                    'save ""',
                    "appendonly no",
                    # Celery's docs: eviction corrupts broker state (InconsistencyError).
                    "maxmemory-policy noeviction",
                    "protected-mode yes",
                    "daemonize no",
                    "loglevel warning",
                ]
            )
            + "\n",
        )
        self.process = Process(
            "redis",
            [shutil.which("redis-server") or "redis-server", str(config)],
            log=self.root / "redis.log",
        ).start()
        wait_for(self._ready, "Redis to answer", timeout=30)
        return self

    def _ready(self) -> bool:
        if self.process is not None and not self.process.alive():
            raise HarnessError(f"Redis exited:\n{self.process.tail()}")
        try:
            return self.command("PING") == b"+PONG"
        except OSError:
            return False

    def command(self, *words: str) -> bytes:
        """Send one authenticated command (RESP) and return the first reply line."""
        payload = b""
        for command in (("AUTH", self.password), words):
            payload += f"*{len(command)}\r\n".encode()
            for word in command:
                data = word.encode()
                payload += b"$%d\r\n%s\r\n" % (len(data), data)
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(payload)
            reply = b""
            while reply.count(b"\r\n") < 2:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        lines = reply.split(b"\r\n")
        if not lines[0].startswith(b"+OK"):
            raise HarnessError(f"Redis refused the password: {lines[0]!r}")
        return lines[1] if len(lines) > 1 else b""

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=10)
